// `mcbench suite --json FILE`: the whole mcbench/suite@1 report (every RunReport, the metrics,
// threshold and baseline verdicts), written atomically; - for stdout.
import type { SuiteReport } from '../core/suite.js';
import { emitJson } from './json.js';

export function writeSuiteJson(target: string, report: SuiteReport): void {
  emitJson(target, report);
}
