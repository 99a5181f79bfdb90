/** The clickstream ETL's library API: the saga's ETL activity and the CLI both call runEtl. */
export { runEtl, type RunEtlOptions, type EtlProgress } from './runEtl.js';
export { EtlError, EtlInputError, type EtlErrorCode } from './errors.js';
export { KEY_TYPES, type KeyType, type EtlReport, type EtlInputReport } from './report.js';
export { ETL_CODE_VERSION } from './sql.js';
