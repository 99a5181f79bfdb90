/**
 * Chooses where telemetry goes, once at start-up. With APPLICATIONINSIGHTS_CONNECTION_STRING set, the
 * `applicationinsights` v3 distro receives it; without it nothing is exported and `applicationinsights` is
 * never even loaded. Its exporter polls a Microsoft settings endpoint as soon as it is constructed (no
 * opt-out), so tests and `npm start` must never reach that code: they leave the setting unset, and tests
 * inject `configure` instead of calling the real one.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { AzureMonitorOpenTelemetryOptions } from 'applicationinsights';

type Env = Readonly<Record<string, string | undefined>>;

/** What the App Insights export needs from the app settings. */
export interface AzureMonitorSettings {
  connectionString: string;
  /**
   * Entra ID ingestion (the component has local auth off): the user-assigned identity's client id, '' for
   * the system-assigned identity, undefined for key-based ingestion.
   */
  entraClientId?: string;
}

/** Turns on the App Insights export; the real one is `useAzureMonitorLazily`. */
export type ConfigureAzureMonitor = (settings: AzureMonitorSettings) => Promise<void>;

/** Where telemetry goes. */
export type TelemetryDestination = 'azure-monitor' | 'none';

/**
 * Reads APPLICATIONINSIGHTS_AUTHENTICATION_STRING (`Authorization=AAD;ClientId=<id>`, the App Service and
 * Functions convention): the distro honours it for live metrics only, so the exporter gets the credential.
 */
export function entraClientIdOf(authenticationString: string | undefined): string | undefined {
  if (!authenticationString) return undefined;
  const parts = new Map(
    authenticationString
      .split(';')
      .map((part) => part.split('=').map((s) => s.trim()))
      .filter((kv): kv is [string, string] => kv.length === 2 && kv[0] !== '')
      .map(([k, v]) => [k.toLowerCase(), v]),
  );
  if (parts.get('authorization')?.toUpperCase() !== 'AAD') return undefined;
  return parts.get('clientid') ?? '';
}

/** The App Insights settings, or undefined when telemetry is not to be exported. */
export function azureMonitorSettingsOf(env: Env): AzureMonitorSettings | undefined {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return undefined;
  const entraClientId = entraClientIdOf(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  return { connectionString, ...(entraClientId === undefined ? {} : { entraClientId }) };
}

/** Distro options for the app: every span kept, no live metrics, and one span per Azure ML call. */
export function azureMonitorOptions(
  settings: AzureMonitorSettings,
  credential?: TokenCredential,
): AzureMonitorOpenTelemetryOptions {
  return {
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      ...(credential ? { credential } : {}),
    },
    // Saga telemetry is low volume and every step matters; the default rate limiter (5 traces/s) would
    // drop the burst of step spans a finished run emits.
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    instrumentationOptions: {
      // Azure SDK spans (storage, Event Grid) are kept. Raw HTTP spans would only repeat them, and the
      // Azure ML calls, which aml/azure's pipeline policy already records as one dependency each.
      http: { enabled: false },
      azureSdk: { enabled: true },
    },
  };
}

/** The real App Insights set-up: loads `applicationinsights` (and the identity for Entra ID) only now. */
export const useAzureMonitorLazily: ConfigureAzureMonitor = async (settings) => {
  const { useAzureMonitor } = await import('applicationinsights');
  let credential: TokenCredential | undefined;
  if (settings.entraClientId !== undefined) {
    const { ManagedIdentityCredential } = await import('@azure/identity');
    credential = settings.entraClientId
      ? new ManagedIdentityCredential({ clientId: settings.entraClientId })
      : new ManagedIdentityCredential();
  }
  useAzureMonitor(azureMonitorOptions(settings, credential));
};

/** Configures the telemetry destination from the app settings; `configure` is injectable for tests. */
export async function configureTelemetry(
  env: Env,
  configure: ConfigureAzureMonitor = useAzureMonitorLazily,
): Promise<TelemetryDestination> {
  const settings = azureMonitorSettingsOf(env);
  if (!settings) return 'none';
  await configure(settings);
  return 'azure-monitor';
}
