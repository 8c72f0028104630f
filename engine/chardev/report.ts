/**
 * Where chardev code reports diagnostics that are not errors of the current operation
 * (QEMU's info_report/warn_report). The command-line layer installs its own sink so messages carry
 * the program name and option location like QEMU's; the default prints "vmstudio-engine: info: ...".
 */
export type ReportKind = 'info' | 'warning' | 'error';

export type ReportSink = (kind: ReportKind, message: string) => void;

const defaultSink: ReportSink = (kind, message) => {
  const prefix = kind === 'error' ? '' : `${kind}: `;
  process.stderr.write(`vmstudio-engine: ${prefix}${message}\n`);
};

let sink: ReportSink = defaultSink;

/** Install a sink; returns the previous one (tests restore it). */
export function setChardevReportSink(s: ReportSink | null): ReportSink {
  const prev = sink;
  sink = s ?? defaultSink;
  return prev;
}

export function chrReport(kind: ReportKind, message: string): void {
  sink(kind, message);
}
