/** Event subscriptions of the local Event Grid and their filters (the subset of Event Grid's filters the app uses). */

/** One subscription: which events go to which function. */
export interface EventSubscription {
  /** Subscription name (`aeg-subscription-name`, dead-letter folder). */
  name: string;
  /** The Event Grid-triggered function that receives the events. */
  functionName: string;
  /** Source topics (ARM ids); every topic when omitted. */
  topics?: string[];
  includedEventTypes?: string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
}

/** True when a subscription's filters select the event; like Event Grid, subject filters ignore case. */
export function matchesSubscription(
  sub: EventSubscription,
  event: { topic: string; subject: string; eventType: string },
): boolean {
  if (sub.topics && !sub.topics.some((t) => t.toLowerCase() === event.topic.toLowerCase())) return false;
  if (
    sub.includedEventTypes &&
    !sub.includedEventTypes.some((t) => t.toLowerCase() === event.eventType.toLowerCase())
  ) {
    return false;
  }
  const subject = event.subject.toLowerCase();
  if (sub.subjectBeginsWith && !subject.startsWith(sub.subjectBeginsWith.toLowerCase())) return false;
  if (sub.subjectEndsWith && !subject.endsWith(sub.subjectEndsWith.toLowerCase())) return false;
  return true;
}
