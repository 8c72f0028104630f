/**
 * The visitors the QOM core uses for object_property_set_qobject/get_qobject/parse/print.
 * Until the shared visitors in engine/qapi/visitors/ land, QOM uses its own minimal ones
 * (fallback-visitors.ts); switching is a change to this file only.
 */
import type { Visitor } from '../qapi/visitor.js';
import type { QObject } from '../qobject/qobject.js';
import {
  FallbackQObjectInputVisitor,
  FallbackQObjectOutputVisitor,
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
  qobjectInput: (value, opts) => new FallbackQObjectInputVisitor(value, !!opts?.keyval),
  qobjectOutput: () => new FallbackQObjectOutputVisitor(),
  stringInput: (value) => new FallbackStringInputVisitor(value),
  stringOutput: (human) => new FallbackStringOutputVisitor(human),
};
