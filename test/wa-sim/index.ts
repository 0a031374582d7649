// Public entry of the WhatsApp protocol simulator (test-only; product code never imports it).
export { PASSKEY_NOTIFICATION_TYPE, PasskeyRequiredError, startSimulator, WrongPairingCodeError, type WaSimulator } from './server.ts'
export type { CodeRequest, PhoneProfile, SimConnectionInfo, SimDevice, SimEvent, SimOptions, SimVersion } from './types.ts'
export { PRELOAD_PATH, TEST_ROOT_KEY, trustTestRootKeyInThisProcess } from './test-root-key.ts'
export { DEFAULT_PHONE_NUMBER } from './phone.ts'
export { startControlServer, type ControlServer } from './control-http.ts'
export { createMemoryAuthState } from './memory-auth.ts'
