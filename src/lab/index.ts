// The lab library: used by `mcbench lab`, and by run/demo/benchmarks/tests to make guests.
export { Lab, requireRoot, withLab } from './lab.js';
export type { BridgeStatus, DownReport, ExecResult, GuestStatus, LabLog, LabStatus, LabUpOptions, WithLabOptions } from './lab.js';
export {
  bridgeName, DEFAULT_LAB_NAME, GUEST_IF, guestNetns, hostLinkName, INTERVAL_KNOBS, labSpec, MAX_GUESTS, MIN_GUESTS, parseGuestRef,
} from '../core/lab-spec.js';
export type { IntervalKnob, LabSpec, LabSpecInput } from '../core/lab-spec.js';
export type { GuestRecord, LabState } from './state.js';
export { STATE_DIR } from './state.js';
