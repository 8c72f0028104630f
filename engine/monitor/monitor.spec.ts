import { afterEach, describe, expect, it, vi } from 'vitest';
import { type QDict, qdict } from '../qobject/qobject.js';
import {
  monitorListAdd,
  monitorListRemove,
  qapiEventEmit,
  resetEventThrottling,
  setEventClock,
} from './monitor.js';

function sink(negotiated = true) {
  const got: QDict[] = [];
  return { negotiated, got, sendEvent: (e: QDict) => void got.push(e) };
}

afterEach(() => {
  vi.useRealTimers();
  resetEventThrottling();
  setEventClock(null);
});

describe('event broadcast', () => {
  it('builds timestamped events and sends them to negotiated monitors', () => {
    const a = sink();
    const b = sink(false);
    monitorListAdd(a);
    monitorListAdd(b);
    setEventClock(() => 1_700_000_000_123_456);
    qapiEventEmit('STOP');
    qapiEventEmit('SHUTDOWN', qdict({ guest: false, reason: 'host-qmp-quit' }));
    expect(a.got).toEqual([
      { timestamp: { seconds: 1_700_000_000, microseconds: 123_456 }, event: 'STOP' },
      {
        timestamp: { seconds: 1_700_000_000, microseconds: 123_456 },
        event: 'SHUTDOWN',
        data: { guest: false, reason: 'host-qmp-quit' },
      },
    ]);
    expect(Object.keys(a.got[0]!)).toEqual(['timestamp', 'event']);
    expect(b.got).toEqual([]);
    monitorListRemove(a);
    monitorListRemove(b);
  });

  it('throttles guest-triggerable events to one per second per key, keeping the newest', () => {
    vi.useFakeTimers();
    const a = sink();
    monitorListAdd(a);
    const rtc = (offset: number) =>
      qapiEventEmit('RTC_CHANGE', qdict({ offset, 'qom-path': '/machine/rtc' }));
    rtc(1);
    rtc(2);
    rtc(3);
    qapiEventEmit('VSERPORT_CHANGE', qdict({ id: 'p1', open: true }));
    qapiEventEmit('VSERPORT_CHANGE', qdict({ id: 'p2', open: true })); // other key: not held back
    qapiEventEmit('VSERPORT_CHANGE', qdict({ id: 'p1', open: false }));
    const names = () => a.got.map((e) => `${e['event']}:${JSON.stringify(e['data'])}`);
    expect(names()).toEqual([
      'RTC_CHANGE:{"offset":1,"qom-path":"/machine/rtc"}',
      'VSERPORT_CHANGE:{"id":"p1","open":true}',
      'VSERPORT_CHANGE:{"id":"p2","open":true}',
    ]);
    vi.advanceTimersByTime(999);
    expect(a.got.length).toBe(3);
    vi.advanceTimersByTime(1);
    expect(names().slice(3)).toEqual([
      'RTC_CHANGE:{"offset":3,"qom-path":"/machine/rtc"}',
      'VSERPORT_CHANGE:{"id":"p1","open":false}',
    ]);
    rtc(4); // within the new window opened by the delayed send
    vi.advanceTimersByTime(1000);
    expect(names().at(-1)).toBe('RTC_CHANGE:{"offset":4,"qom-path":"/machine/rtc"}');
    vi.advanceTimersByTime(1000);
    rtc(5); // window over: immediate
    expect(names().at(-1)).toBe('RTC_CHANGE:{"offset":5,"qom-path":"/machine/rtc"}');
    monitorListRemove(a);
  });
});
