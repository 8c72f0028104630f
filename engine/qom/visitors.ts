/**
 * The visitors the QOM core uses for object_property_set_qobject/get_qobject/parse/print: the shared
 * QObject visitors; the string visitors are QOM's own minimal ones (fallback-visitors.ts) until
 * engine/qapi/visitors/ provides string-input/output visitors. Switching is a change to this file only.
 */
import type { Visitor } from '../qapi/visitor.js';
import type { QObject } from '../qobject/qobject.js';
import { QObjectInputVisitor } from '../qapi/visitors/qobject-input-visitor.js';
import { QObjectOutputVisitor } from '../qapi/visitors/qobject-output-visitor.js';
import {
  FallbackStringInputVisitor,
  FallbackStringOutputVisitor,
} from './fallback-visitors.js';

export interface QomVisitorFactories {
  qobjectInput(value: QObject, opts?: { keyval?: boolean }): Visitor;
  qobjectOutput(): Visitor & { result(): QObject };
  stringInput(value: string): Visitor;
  stringOutput(human: boolean): Visitor & { result(): string };
}

export const qomVisitors: QomVisitorFactories = {
  qobjectInput: (value, opts) => new QObjectInputVisitor(value, { keyval: !!opts?.keyval }),
  qobjectOutput: () => new QObjectOutputVisitor(),
  stringInput: (value) => new FallbackStringInputVisitor(value),
  stringOutput: (human) => new FallbackStringOutputVisitor(human),
};
