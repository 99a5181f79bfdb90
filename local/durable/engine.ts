import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { FunctionInvoker } from '../core/invoker.js';
import type { FunctionRegistry, RegisteredFunction } from '../core/registry.js';
import type { HostLogger } from '../log.js';
import { DurableHubError } from './errors.js';
import {
  EventType,
  OrchestrationStatus,
  events,
  terminalStatuses,
  type FailureDetails,
  type HistoryEvent,
  type ParentInstance,
  type RuntimeStatus,
} from './history.js';
import {
  applyDeliveredEvent,
  hasOpenTasks,
  newExecutionBook,
  planActions,
  type ExecutionBook,
  type ScheduledWork,
} from './planner.js';
import {
  activityFailure,
  activityTriggerData,
  orchestrationTriggerData,
  readOrchestratorResult,
  typedDataToJson,
  type OrchestratorState,
} from './protocol.js';
import { continueSession, type SessionCache } from './sessions.js';
import type { InstanceRecord, ReceivedControlMessage, TaskHubStore } from './store.js';

/**
 * The durable task hub's dispatcher. Each instance is an actor that handles one message per episode:
 * it replays the orchestrator over the history plus that message, numbers the new actions, appends the
 * episode to the history and starts the work. Work starts before the append commits (as DTFx sends
 * messages before it writes history): a crash before the commit replays the episode from the committed
 * history on restart and starts the same work again under the same ids, so activities run at least once
 * and completions that arrive twice are dropped because their id is no longer open.
 */

/** Persisted engine bookkeeping of the current execution (the sentinel row's EngineState). */
interface EngineState {
  book: ExecutionBook;
  status: RuntimeStatus;
  output: string | null;
  customStatus: string | null;
  /** Messages that arrived while suspended, delivered after resume. */
  stash: HistoryEvent[];
}

interface InboxItem {
  event: HistoryEvent;
  executionId?: string;
  receipt?: ReceivedControlMessage;
}

/** Figures for benchmarks: wall time of each orchestrator episode. */
export interface EngineStats {
  episodes: number;
  episodeMs: number[];
  activities: number;
  /** Instances whose finished status reached the instance row. */
  finished: number;
}

/** Options of the engine. */
export interface DurableEngineOptions {
  store: TaskHubStore;
  registry: FunctionRegistry;
  invoker: FunctionInvoker;
  clock: Clock;
  logger: HostLogger;
  /** Keep per-episode timings (benchmarks). */
  collectStats?: boolean;
  /** Extended sessions: continue kept executors instead of replaying (see sessions.ts). */
  sessions?: SessionCache;
}

const controlVisibilitySeconds = 30;
const maxEventsPerEpisode = 200;
const rowWriteDelayMs = 50;
const commitDelayMs = 5;

/** One orchestration instance in memory. */
class InstanceActor {
  /** The instance row as last written. */
  record!: InstanceRecord;
  /** Input of the current execution (changes with continueAsNew). */
  input: string | null = null;
  recordEtag = '';
  executionId = '';
  history: HistoryEvent[] = [];
  state: EngineState = {
    book: newExecutionBook(),
    status: 'Pending',
    output: null,
    customStatus: null,
    stash: [],
  };
  committedCount = 0;
  sentinelEtag: string | null = null;
  readonly inbox: InboxItem[] = [];
  readonly timers = new Map<number, AbortController>();
  /** The SDK executor kept between episodes when extended sessions are on. */
  session: ReturnType<SessionCache['take']>;
  #draining = false;
  #commit: Promise<void> | undefined;
  #commitAgain = false;
  #receipts: ReceivedControlMessage[] = [];
  #afterCommit: (() => void)[] = [];
  #rowWrite: Promise<void> | undefined;
  #rowAgain = false;
  discarded = false;

  constructor(
    readonly instanceId: string,
    private readonly engine: DurableEngine,
  ) {}

  /** Sets up a just-created instance without reading storage (no history, no sentinel yet). */
  seed(record: InstanceRecord, etag: string): void {
    this.record = record;
    this.input = record.input;
    this.recordEtag = etag;
    this.executionId = record.executionId;
  }

  /** Loads the instance row and committed history; false if the instance does not exist. */
  async load(): Promise<boolean> {
    const row = await this.engine.store.getInstance(this.instanceId);
    if (!row) return false;
    this.record = row.record;
    this.input = row.record.input;
    this.recordEtag = row.etag;
    this.executionId = row.record.executionId;
    const stored = await this.engine.store.loadHistory(this.instanceId);
    this.sentinelEtag = stored?.etag ?? null;
    if (stored && stored.executionId === this.executionId) {
      this.history = stored.events;
      this.committedCount = stored.events.length;
      if (stored.engineState) this.state = JSON.parse(stored.engineState) as EngineState;
    } else {
      this.history = [];
      this.committedCount = 0;
      this.state = {
        book: newExecutionBook(),
        status: row.record.runtimeStatus,
        output: null,
        customStatus: null,
        stash: [],
      };
    }
    return true;
  }

  get name(): string {
    return this.record.name;
  }

  /** Adds a message and processes the inbox in order, one message per episode. */
  post(item: InboxItem): void {
    this.inbox.push(item);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.inbox.length > 0 && !this.discarded) {
        const item = this.inbox.shift()!;
        try {
          await this.#handle(item);
        } catch (err) {
          this.engine.logger.error('Durable message processing failed', {
            instanceId: this.instanceId,
            eventType: item.event.EventType,
            error: (err as Error).message,
          });
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Id of the task a completion event closes, if it is one. */
  #completionKey(event: HistoryEvent): number | undefined {
    const key = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
    return typeof key === 'number' ? key : undefined;
  }

  /**
   * Whether a queued message can join the episode being built. Messages whose handling makes the SDK take
   * ids on its own (retry attempts and retry timers) only ever lead an episode: the host numbers those
   * ids before the new actions, which is the SDK's order only when nothing ran before them.
   */
  #canJoin(item: InboxItem, taken: Set<number>): boolean {
    if (item.executionId && item.executionId !== this.executionId) return false;
    const type = item.event.EventType;
    if (type === EventType.EventRaised) return true;
    if (
      type !== EventType.TaskCompleted &&
      type !== EventType.TaskFailed &&
      type !== EventType.TimerFired &&
      type !== EventType.SubOrchestrationInstanceCompleted &&
      type !== EventType.SubOrchestrationInstanceFailed
    ) {
      return false;
    }
    const key = this.#completionKey(item.event);
    if (key === undefined || taken.has(key)) return false;
    const open = this.state.book.open[key];
    return open !== undefined && open.retryGroup === undefined;
  }

  #takeBatch(first: InboxItem): InboxItem[] {
    const batch = [first];
    if (first.event.EventType === EventType.ExecutionStarted) return batch;
    const taken = new Set<number>();
    const firstKey = this.#completionKey(first.event);
    if (firstKey !== undefined) taken.add(firstKey);
    while (
      this.inbox.length > 0 &&
      batch.length < maxEventsPerEpisode &&
      this.#canJoin(this.inbox[0]!, taken)
    ) {
      const next = this.inbox.shift()!;
      const key = this.#completionKey(next.event);
      if (key !== undefined) taken.add(key);
      batch.push(next);
    }
    return batch;
  }

  #ack(item: InboxItem): void {
    if (item.receipt) this.#receipts.push(item.receipt);
    this.scheduleCommit();
  }

  async #handle(item: InboxItem): Promise<void> {
    const { event } = item;
    const status = this.state.status;
    if (item.executionId && item.executionId !== this.executionId) return this.#ack(item);
    if (event.EventType === EventType.ExecutionStarted) {
      if (this.#hasStarted() || terminalStatuses.has(status)) return this.#ack(item);
      if (status === 'Suspended') {
        this.state.stash.push(event);
        return this.#ack(item);
      }
      return this.#episode([item]);
    }
    if (terminalStatuses.has(status)) return this.#ack(item);
    if (event.EventType === EventType.ExecutionTerminated) return this.#terminate(item);
    if (event.EventType === EventType.ExecutionSuspended) {
      if (status === 'Running' || status === 'Pending') {
        this.history.push(event);
        this.state.status = 'Suspended';
      }
      return this.#ack(item);
    }
    if (event.EventType === EventType.ExecutionResumed) {
      if (status === 'Suspended') {
        this.history.push(event);
        this.state.status = this.#hasStarted() ? 'Running' : 'Pending';
        const stashed = this.state.stash.splice(0);
        this.inbox.unshift(...stashed.map((e) => ({ event: e })));
      }
      return this.#ack(item);
    }
    if (status === 'Suspended' || !this.#hasStarted()) {
      // Not running yet or suspended: keep the message until the instance runs (DTFx buffers it too).
      this.state.stash.push(event);
      return this.#ack(item);
    }
    if (event.EventType !== EventType.EventRaised) {
      const key = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
      if (typeof key !== 'number' || !this.state.book.open[key]) return this.#ack(item);
    }
    return this.#episode(this.#takeBatch(item));
  }

  #hasStarted(): boolean {
    // ExecutionStarted is always among the first events (after OrchestratorStarted or a suspension).
    for (let i = 0; i < Math.min(this.history.length, 8); i++) {
      if (this.history[i]!.EventType === EventType.ExecutionStarted) return true;
    }
    return false;
  }

  #terminate(item: InboxItem): void {
    const now = this.engine.clock.now();
    const reason = typeof item.event.Input === 'string' ? item.event.Input : null;
    this.history.push(
      events.orchestratorStarted(now),
      item.event,
      events.executionCompleted(now, this.state.book.nextId, OrchestrationStatus.Terminated, reason),
      events.orchestratorCompleted(now),
    );
    this.#finish('Terminated', reason === null ? null : JSON.stringify(reason));
    this.engine.logger.info('Orchestration terminated', { instanceId: this.instanceId, name: this.name });
    this.#ack(item);
  }

  #finish(status: RuntimeStatus, output: string | null): void {
    this.state.status = status;
    this.state.output = output;
    this.state.book.open = {};
    for (const timer of this.timers.values()) timer.abort();
    this.timers.clear();
    if (this.record.parent && status !== 'Terminated') {
      const parent = JSON.parse(this.record.parent) as ParentInstance;
      this.#afterCommit.push(() => this.engine.notifyParent(parent, status, output));
    }
  }

  async #episode(batch: InboxItem[]): Promise<void> {
    const item = batch[0]!;
    const engine = this.engine;
    const fn = engine.registry.find(this.name);
    const now = engine.clock.now();
    const started = performance.now();
    const newEvents: HistoryEvent[] = [events.orchestratorStarted(now), ...batch.map((b) => b.event)];
    const started0 = this.history.find((e) => e.EventType === EventType.ExecutionStarted) ?? item.event;
    let result: { state: OrchestratorState; replayed: boolean } | { crash: string };
    if (!fn || fn.triggerType !== 'orchestrationtrigger') {
      result = {
        crash: `The function '${this.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      };
    } else {
      result = await this.#run(fn, newEvents, started0);
    }
    if (this.discarded) return;
    for (const e of newEvents) this.history.push(e);

    const book = this.state.book;
    const scheduled: ScheduledWork[] = batch.flatMap((b) => applyDeliveredEvent(book, b.event, now));
    let outcome: RuntimeStatus = 'Running';
    let output: string | null = null;
    let failure: FailureDetails | undefined;
    let continueAsNew: { input: unknown } | undefined;
    if ('crash' in result) {
      outcome = 'Failed';
      output = `Orchestrator function '${this.name}' failed: ${result.crash}`;
      failure = { ErrorType: 'Error', ErrorMessage: result.crash };
    } else {
      const state = result.state;
      // Without a replay (extended session) the earlier actions are the same objects: nothing to compare.
      const plan = planActions(book, state.actions[0] ?? [], result.replayed ? this.history : undefined, now);
      scheduled.push(...plan.scheduled);
      if (state.customStatus !== undefined) this.state.customStatus = JSON.stringify(state.customStatus);
      for (const id of plan.canceledTimers) {
        this.timers.get(id)?.abort();
        this.timers.delete(id);
      }
      if (plan.failure) {
        outcome = 'Failed';
        output = plan.failure.message;
        failure = { ErrorType: plan.failure.errorType, ErrorMessage: plan.failure.message };
      } else if (state.error !== undefined) {
        outcome = 'Failed';
        output = `Orchestrator function '${this.name}' failed: ${state.error}`;
        const fd = state.failureDetails;
        failure = {
          ErrorType: fd?.ErrorType ?? 'Error',
          ErrorMessage: fd?.ErrorMessage ?? state.error,
          StackTrace: fd?.StackTrace ?? null,
        };
      } else if (state.isDone && plan.continueAsNew) {
        continueAsNew = plan.continueAsNew;
      } else if (state.isDone && !hasOpenTasks(book)) {
        outcome = 'Completed';
        output = state.output === undefined ? null : JSON.stringify(state.output);
      }
    }
    if (outcome === 'Failed') scheduled.length = 0;
    for (const work of scheduled) this.history.push(this.#scheduledEvent(work, now));
    if (outcome === 'Completed' || outcome === 'Failed') {
      this.history.push(
        events.executionCompleted(now, book.nextId, OrchestrationStatus[outcome], output, failure),
        events.orchestratorCompleted(now),
      );
      this.#finish(outcome, outcome === 'Failed' ? JSON.stringify(output) : output);
    } else {
      this.history.push(events.orchestratorCompleted(now));
      if (this.state.status === 'Pending') this.state.status = 'Running';
    }
    for (let i = this.#playedCount; i < this.history.length; i++) this.history[i]!.IsPlayed = true;
    this.#playedCount = this.history.length;

    const durationMs = performance.now() - started;
    engine.recordEpisode(durationMs);
    engine.logger.info('Orchestration executed', {
      instanceId: this.instanceId,
      name: this.name,
      durationMs: Math.round(durationMs * 100) / 100,
      outcome: continueAsNew ? 'ContinuedAsNew' : outcome === 'Running' ? 'Awaited' : outcome,
    });

    if (continueAsNew || outcome !== 'Running') this.session = undefined;
    if (continueAsNew) this.#continueAsNew(continueAsNew.input, now);
    else for (const work of scheduled) engine.startWork(this, work);
    for (const b of batch) this.#ack(b);
  }

  /** Continues the kept session if there is one (extended sessions), else replays the whole history. */
  async #run(
    fn: RegisteredFunction,
    newEvents: HistoryEvent[],
    startedEvent: HistoryEvent,
  ): Promise<{ state: OrchestratorState; replayed: boolean } | { crash: string }> {
    const sessions = this.engine.sessions;
    if (sessions && this.session) {
      try {
        return { state: continueSession(this.session, newEvents), replayed: false };
      } catch (err) {
        this.engine.logger.warn('Extended session lost; replaying the history', {
          instanceId: this.instanceId,
          error: (err as Error).message,
        });
        this.session = undefined;
      }
    }
    const result = await this.#invoke(fn, [...this.history, ...newEvents], startedEvent);
    if (sessions) this.session = sessions.take(this.instanceId);
    return 'state' in result ? { ...result, replayed: true } : result;
  }

  async #invoke(
    fn: RegisteredFunction,
    history: HistoryEvent[],
    startedEvent: HistoryEvent,
  ): Promise<{ state: OrchestratorState } | { crash: string }> {
    const input = typeof startedEvent.Input === 'string' ? (JSON.parse(startedEvent.Input) as unknown) : null;
    const parent = startedEvent.ParentInstance as ParentInstance | null | undefined;
    try {
      const outcome = await this.engine.invoker.invoke(fn, {
        triggerData: orchestrationTriggerData({
          history,
          input,
          instanceId: this.instanceId,
          isReplaying: this.history.length > 0,
          parentInstanceId: parent?.OrchestrationInstance.InstanceId ?? null,
        }),
      });
      return readOrchestratorResult({ returnValue: outcome.response.returnValue });
    } catch (err) {
      return readOrchestratorResult({ error: err });
    }
  }

  #scheduledEvent(work: ScheduledWork, now: Date): HistoryEvent {
    if (work.kind === 'activity') {
      return events.taskScheduled(now, work.id, work.name, JSON.stringify([work.input ?? null]));
    }
    if (work.kind === 'timer') return events.timerCreated(now, work.id, work.fireAt);
    const childId = work.instanceId ?? `${this.executionId}:${work.id}`;
    work.instanceId = childId;
    const open = this.state.book.open[work.id];
    if (open?.kind === 'suborch') open.instanceId = childId;
    const group = work.retryGroup !== undefined ? this.state.book.retries[work.retryGroup] : undefined;
    if (group) group.instanceId = childId;
    return events.subOrchestrationCreated(
      now,
      work.id,
      work.name,
      childId,
      JSON.stringify(work.input ?? null),
    );
  }

  #continueAsNew(input: unknown, now: Date): void {
    // The SDK JSON-encodes string inputs of continueAsNew (§4.4); decode so getInput() sees the value.
    const inputText = typeof input === 'string' ? input : JSON.stringify(input ?? null);
    for (const timer of this.timers.values()) timer.abort();
    this.timers.clear();
    this.executionId = randomUUID().replaceAll('-', '');
    this.history = [];
    this.committedCount = 0;
    this.state = {
      book: newExecutionBook(),
      status: 'Running',
      output: null,
      customStatus: this.state.customStatus,
      stash: [],
    };
    this.input = inputText;
    const parent = this.record.parent ? (JSON.parse(this.record.parent) as ParentInstance) : null;
    this.inbox.unshift({
      event: events.executionStarted(now, {
        instanceId: this.instanceId,
        executionId: this.executionId,
        name: this.name,
        input: inputText,
        parent,
      }),
      executionId: this.executionId,
    });
  }

  /** Commits what changed since the last commit; coalesces episodes while a commit is in flight. */
  scheduleCommit(): void {
    if (this.#commit) {
      this.#commitAgain = true;
      return;
    }
    // Group commit: wait a moment so episodes that follow quickly share one table batch. Work was
    // already started (see the top of this file), so the wait is off every orchestration's critical path.
    this.#commit = new Promise<void>((resolve) => setTimeout(resolve, commitDelayMs))
      .then(() => this.#commitLoop())
      .finally(() => {
        this.#commit = undefined;
      });
  }

  /** Resolves once everything processed so far is committed. */
  async flushed(): Promise<void> {
    while (this.#commit) await this.#commit;
    if (this.#rowDelay) this.#scheduleRowWrite(true);
    while (this.#rowWrite) await this.#rowWrite;
  }

  async #commitLoop(): Promise<void> {
    do {
      this.#commitAgain = false;
      const from = this.committedCount;
      const newEvents = this.history.slice(from);
      const receipts = this.#receipts.splice(0);
      const after = this.#afterCommit.splice(0);
      const executionId = this.executionId;
      const stateJson = JSON.stringify(this.state);
      const committed = {
        status: this.state.status,
        output: this.state.output,
        customStatus: this.state.customStatus,
        input: this.input,
      };
      try {
        if (newEvents.length > 0 || from === 0 || stateJson !== this.#lastStateJson) {
          this.sentinelEtag = await this.engine.store.appendHistory(
            this.instanceId,
            executionId,
            from,
            newEvents,
            stateJson,
            this.sentinelEtag,
          );
          this.#lastStateJson = stateJson;
          if (this.executionId === executionId) this.committedCount = from + newEvents.length;
        }
      } catch (err) {
        this.engine.discard(this, err);
        return;
      }
      // The row shows what the history has committed, never the episodes still in memory.
      this.#committedView = { ...committed, executionId };
      this.#scheduleRowWrite(terminalStatuses.has(committed.status));
      for (const fn of after) fn();
      for (const r of receipts) void this.engine.store.deleteControl(r).catch(() => undefined);
    } while (this.#commitAgain);
  }

  #lastStateJson = '';
  #playedCount = 0;
  #reportedFinished = false;
  #committedView:
    | {
        status: RuntimeStatus;
        output: string | null;
        customStatus: string | null;
        input: string | null;
        executionId: string;
      }
    | undefined;

  /**
   * Row updates that only move a running instance along wait briefly so that several coalesce (a short
   * orchestration then writes Completed once instead of Running and Completed); final statuses go at once.
   */
  #scheduleRowWrite(final: boolean): void {
    if (final || this.#rowWrite) {
      clearTimeout(this.#rowDelay);
      this.#rowDelay = undefined;
      this.#writeRow();
      return;
    }
    if (this.#rowDelay) return;
    this.#rowDelay = setTimeout(() => {
      this.#rowDelay = undefined;
      this.#writeRow();
    }, rowWriteDelayMs);
  }

  #rowDelay: NodeJS.Timeout | undefined;

  #writeRow(): void {
    if (this.#rowWrite) {
      this.#rowAgain = true;
      return;
    }
    this.#rowWrite = (async () => {
      do {
        this.#rowAgain = false;
        const view = this.#committedView;
        if (!view) break;
        const record: InstanceRecord = {
          ...this.record,
          executionId: view.executionId,
          input: view.input,
          runtimeStatus: view.status,
          output: view.output,
          customStatus: view.customStatus,
          lastUpdatedTime: this.engine.clock.now(),
        };
        if (sameRow(record, this.record) && this.recordEtag) continue;
        try {
          this.recordEtag = await this.engine.store.putInstance(record, this.recordEtag || '*');
          this.record = record;
        } catch (err) {
          if (!(err instanceof DurableHubError && err.code === 'DURABLE_CONFLICT')) throw err;
          const fresh = await this.engine.store.getInstance(this.instanceId);
          if (!fresh || fresh.record.executionId !== this.record.executionId) {
            // The client purged or restarted the instance: this actor is obsolete.
            this.engine.discard(this, err);
            return;
          }
          this.recordEtag = fresh.etag;
          this.#rowAgain = true;
        }
      } while (this.#rowAgain);
      const finished = this.#committedView !== undefined && terminalStatuses.has(this.#committedView.status);
      if (finished && !this.#reportedFinished) {
        this.#reportedFinished = true;
        this.engine.stats.finished++;
      }
      if (finished && this.inbox.length === 0 && this.committedCount === this.history.length)
        this.engine.evict(this);
    })()
      .catch((err: unknown) =>
        this.engine.logger.error('Instance row update failed', {
          instanceId: this.instanceId,
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        this.#rowWrite = undefined;
      });
  }
}

function sameRow(a: InstanceRecord, b: InstanceRecord): boolean {
  return (
    a.runtimeStatus === b.runtimeStatus &&
    a.output === b.output &&
    a.customStatus === b.customStatus &&
    a.executionId === b.executionId &&
    a.input === b.input
  );
}

/** The durable task hub engine: actors, control-queue listener, activity and timer dispatch, recovery. */
export class DurableEngine {
  readonly store: TaskHubStore;
  readonly registry: FunctionRegistry;
  readonly invoker: FunctionInvoker;
  readonly clock: Clock;
  readonly logger: HostLogger;
  readonly sessions: SessionCache | undefined;
  readonly stats: EngineStats = { episodes: 0, episodeMs: [], activities: 0, finished: 0 };
  readonly #collectStats: boolean;
  readonly #actors = new Map<string, InstanceActor>();
  readonly #loading = new Map<string, Promise<InstanceActor | undefined>>();
  #running = false;
  #poller: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: DurableEngineOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.invoker = options.invoker;
    this.clock = options.clock;
    this.logger = options.logger;
    this.#collectStats = options.collectStats ?? false;
    this.sessions = options.sessions;
  }

  /** Creates the hub, resumes every unfinished instance and starts listening on the control queue. */
  async start(): Promise<void> {
    await this.store.ensureCreated();
    this.#running = true;
    await this.#recover();
    this.#poller = this.#poll();
  }

  /** Stops listening and waits for commits in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#poller;
    for (const actor of this.#actors.values()) for (const t of actor.timers.values()) t.abort();
    await Promise.allSettled([...this.#inFlight]);
    await Promise.allSettled([...this.#actors.values()].map((a) => a.flushed()));
  }

  /** Makes the listener poll now (after this process sent a control message). */
  kick(): void {
    this.#wake?.();
  }

  recordEpisode(ms: number): void {
    this.stats.episodes++;
    if (this.#collectStats) this.stats.episodeMs.push(ms);
  }

  async #poll(): Promise<void> {
    let idle = 0;
    while (this.#running) {
      let received: ReceivedControlMessage[] = [];
      try {
        received = await this.store.receiveControl(controlVisibilitySeconds);
      } catch (err) {
        this.logger.warn('Control queue receive failed', { error: (err as Error).message });
      }
      for (const r of received)
        void this.deliver(r.message.instanceId, r.message.event, r.message.executionId, r);
      if (received.length > 0) {
        idle = 0;
        continue;
      }
      // Back off while idle (up to 1 s), wake at once when this process sends a message.
      idle = Math.min(idle + 1, 10);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idle * 100);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #actor(instanceId: string): Promise<InstanceActor | undefined> {
    const existing = this.#actors.get(instanceId);
    if (existing) return existing;
    const loading = this.#loading.get(instanceId);
    if (loading) return loading;
    const promise = (async () => {
      const actor = new InstanceActor(instanceId, this);
      if (!(await actor.load())) return undefined;
      this.#actors.set(instanceId, actor);
      return actor;
    })().finally(() => this.#loading.delete(instanceId));
    this.#loading.set(instanceId, promise);
    return promise;
  }

  /** Hands a message to its instance (loading it if needed); messages for unknown instances are dropped. */
  async deliver(
    instanceId: string,
    event: HistoryEvent,
    executionId?: string,
    receipt?: ReceivedControlMessage,
  ): Promise<void> {
    const actor = await this.#actor(instanceId);
    if (!actor) {
      if (receipt) await this.store.deleteControl(receipt);
      return;
    }
    actor.post({ event, ...(executionId ? { executionId } : {}), ...(receipt ? { receipt } : {}) });
  }

  /** Forgets an actor whose state may be stale (write conflict, purge, restart) and reloads it if needed. */
  discard(actor: InstanceActor, err: unknown): void {
    actor.discarded = true;
    for (const t of actor.timers.values()) t.abort();
    if (this.#actors.get(actor.instanceId) === actor) this.#actors.delete(actor.instanceId);
    if (err) {
      this.logger.warn('Instance state discarded; reloading from storage', {
        instanceId: actor.instanceId,
        error: (err as Error).message,
      });
      if (this.#running) {
        this.#resumeInstance(actor.instanceId).catch((e: unknown) =>
          this.logger.error('Instance reload failed', {
            instanceId: actor.instanceId,
            error: (e as Error).message,
          }),
        );
      }
    }
  }

  /** Drops a finished instance from memory. */
  evict(actor: InstanceActor): void {
    if (this.#actors.get(actor.instanceId) === actor) this.#actors.delete(actor.instanceId);
  }

  /** Forgets an instance without reloading it (before purge or overwrite). */
  async forget(instanceId: string): Promise<void> {
    const actor = this.#actors.get(instanceId);
    if (!actor) return;
    await actor.flushed();
    this.discard(actor, undefined);
  }

  /** Resolves once the instance's processed messages are committed (tests). */
  async flushed(instanceId: string): Promise<void> {
    await this.#actors.get(instanceId)?.flushed();
  }

  // ---- starting work ----

  /** Starts what an episode scheduled: runs an activity, arms a timer or starts a sub-orchestration. */
  startWork(actor: InstanceActor, work: ScheduledWork): void {
    if (work.kind === 'activity') this.#track(this.#runActivity(actor, work.id, work.name, work.input));
    else if (work.kind === 'timer') this.#armTimer(actor, work.id, work.fireAt);
    else this.#track(this.#startChild(actor, work.id, work.name, work.instanceId!, work.input));
  }

  #track(p: Promise<unknown>): void {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #runActivity(actor: InstanceActor, id: number, name: string, input: unknown): Promise<void> {
    const executionId = actor.executionId;
    const fn = this.registry.find(name);
    const started = performance.now();
    let completion: HistoryEvent;
    if (!fn || fn.triggerType !== 'activitytrigger') {
      completion = events.taskFailed(
        this.clock.now(),
        id,
        `The function '${name}' doesn't exist, is disabled, or is not an activity function.`,
        '',
      );
    } else {
      try {
        const outcome = await this.invoker.invoke(fn, {
          triggerData: activityTriggerData(input),
          triggerMetadata: {
            instanceId: { string: actor.instanceId },
            ...(input !== undefined ? { data: activityTriggerData(input) } : {}),
          },
        });
        completion = events.taskCompleted(
          this.clock.now(),
          id,
          typedDataToJson(outcome.response.returnValue),
        );
      } catch (err) {
        const failed = activityFailure(fn.name, err);
        completion = events.taskFailed(
          this.clock.now(),
          id,
          failed.reason,
          failed.details,
          failed.failureDetails,
        );
      }
    }
    this.stats.activities++;
    this.logger.info('Activity executed', {
      instanceId: actor.instanceId,
      name,
      taskId: id,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      outcome: completion.EventType === EventType.TaskCompleted ? 'Succeeded' : 'Failed',
    });
    await this.deliver(actor.instanceId, completion, executionId);
  }

  #armTimer(actor: InstanceActor, id: number, fireAt: Date): void {
    if (actor.state.book.open[id]?.kind !== 'timer') return;
    const abort = new AbortController();
    actor.timers.set(id, abort);
    const executionId = actor.executionId;
    this.clock.sleepUntil(fireAt, abort.signal).then(
      () => {
        actor.timers.delete(id);
        void this.deliver(
          actor.instanceId,
          events.timerFired(this.clock.now(), id, fireAt.toISOString()),
          executionId,
        );
      },
      () => undefined,
    );
  }

  async #startChild(parentActor: InstanceActor, id: number, name: string, childId: string, input: unknown) {
    const parent: ParentInstance = {
      Name: parentActor.name,
      Version: '',
      OrchestrationInstance: { InstanceId: parentActor.instanceId, ExecutionId: parentActor.executionId },
      TaskScheduleId: id,
    };
    const inputText = JSON.stringify(input ?? null);
    const existing = await this.store.getInstance(childId);
    if (existing) {
      const sameParent = existing.record.parent === JSON.stringify(parent);
      if (sameParent) {
        // Started before a crash: report it again if it already finished.
        const status = existing.record.runtimeStatus;
        if (status === 'Completed' || status === 'Failed')
          this.notifyParent(parent, status, existing.record.output);
        return;
      }
      if (!terminalStatuses.has(existing.record.runtimeStatus)) {
        const reason = `An Orchestration instance with the status ${existing.record.runtimeStatus} already exists.`;
        await this.deliver(
          parentActor.instanceId,
          events.subOrchestrationFailed(this.clock.now(), id, reason, ''),
          parentActor.executionId,
        );
        return;
      }
      await this.forget(childId);
    }
    await this.createInstance({ instanceId: childId, name, input: inputText, parent }, existing?.etag);
  }

  /**
   * Creates (or, with `etag`, overwrites a finished) instance as Pending and hands it its ExecutionStarted
   * message in memory. The Pending row carries everything the first episode needs, so it is the durable
   * record of the start: recovery restarts Pending instances if the host dies before their first commit.
   */
  async createInstance(
    p: { instanceId: string; name: string; input: string; parent: ParentInstance | null },
    etag: string | undefined,
  ): Promise<InstanceRecord> {
    const now = this.clock.now();
    const record: InstanceRecord = {
      instanceId: p.instanceId,
      name: p.name,
      executionId: randomUUID().replaceAll('-', ''),
      runtimeStatus: 'Pending',
      input: p.input,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      parent: p.parent ? JSON.stringify(p.parent) : null,
    };
    const newEtag = await this.store.putInstance(record, etag ?? 'create');
    if (etag === undefined && !this.#actors.has(record.instanceId) && !this.#loading.has(record.instanceId)) {
      // A brand-new instance has no history yet: skip reading back what was just written.
      const actor = new InstanceActor(record.instanceId, this);
      actor.seed(record, newEtag);
      this.#actors.set(record.instanceId, actor);
    }
    const started = events.executionStarted(now, {
      instanceId: record.instanceId,
      executionId: record.executionId,
      name: record.name,
      input: record.input ?? 'null',
      parent: p.parent,
    });
    await this.deliver(record.instanceId, started, record.executionId);
    return record;
  }

  /** Sends a finished sub-orchestration's result to its parent through the control queue. */
  notifyParent(parent: ParentInstance, status: RuntimeStatus, output: string | null): void {
    const now = this.clock.now();
    const event =
      status === 'Completed'
        ? events.subOrchestrationCompleted(now, parent.TaskScheduleId, output)
        : events.subOrchestrationFailed(
            now,
            parent.TaskScheduleId,
            output ? String(JSON.parse(output)) : 'Sub-orchestration failed.',
            '',
          );
    this.#track(
      this.store
        .sendControl({
          instanceId: parent.OrchestrationInstance.InstanceId,
          executionId: parent.OrchestrationInstance.ExecutionId,
          event,
        })
        .then(() => this.kick()),
    );
  }

  // ---- recovery ----

  async #recover(): Promise<void> {
    const unfinished: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.store.listInstances(
        "RuntimeStatus eq 'Pending' or RuntimeStatus eq 'Running' or RuntimeStatus eq 'Suspended' or RuntimeStatus eq 'ContinuedAsNew'",
        1000,
        token,
        false,
      );
      unfinished.push(...page.records.map((r) => r.instanceId));
      token = page.continuationToken;
    } while (token);
    await Promise.all(unfinished.map((id) => this.#resumeInstance(id)));
    if (unfinished.length > 0) this.logger.info('Durable instances resumed', { count: unfinished.length });
  }

  /** Restarts the work of an unfinished instance from its committed state. */
  async #resumeInstance(instanceId: string): Promise<void> {
    const actor = await this.#actor(instanceId);
    if (!actor) return;
    if (terminalStatuses.has(actor.state.status)) {
      // History committed the end but the row missed it: repair the row.
      actor.scheduleCommit();
      return;
    }
    if (actor.history.length === 0) {
      const parent = actor.record.parent ? (JSON.parse(actor.record.parent) as ParentInstance) : null;
      actor.post({
        event: events.executionStarted(this.clock.now(), {
          instanceId,
          executionId: actor.executionId,
          name: actor.name,
          input: actor.input ?? 'null',
          parent,
        }),
        executionId: actor.executionId,
      });
      return;
    }
    const scheduledInputs = new Map<number, unknown>();
    for (const e of actor.history) {
      if (
        e.EventType === EventType.TaskScheduled ||
        e.EventType === EventType.SubOrchestrationInstanceCreated
      ) {
        const text = typeof e.Input === 'string' ? e.Input : 'null';
        const parsed = JSON.parse(text) as unknown;
        scheduledInputs.set(
          e.EventId,
          e.EventType === EventType.TaskScheduled ? (parsed as unknown[])[0] : parsed,
        );
      }
    }
    for (const [key, task] of Object.entries(actor.state.book.open)) {
      const id = Number(key);
      if (task.kind === 'activity')
        this.#track(this.#runActivity(actor, id, task.name, scheduledInputs.get(id)));
      else if (task.kind === 'timer') this.#armTimer(actor, id, new Date(task.fireAt));
      else this.#track(this.#startChild(actor, id, task.name, task.instanceId, scheduledInputs.get(id)));
    }
  }
}
