/**
 * The visitors the QOM core uses for object_property_set_qobject/get_qobject (QObject visitors) and
 * object_property_parse/print (string visitors), all from engine/qapi/visitors/. Kept behind this
 * table so QOM does not construct visitors all over the place.
 */
import type { Visitor } from '../qapi/visitor.js';
import type { QObject } from '../qobject/qobject.js';
import { QObjectInputVisitor } from '../qapi/visitors/qobject-input-visitor.js';
import { QObjectOutputVisitor } from '../qapi/visitors/qobject-output-visitor.js';
import { StringInputVisitor } from '../qapi/visitors/string-input-visitor.js';
import { StringOutputVisitor } from '../qapi/visitors/string-output-visitor.js';

export interface QomVisitorFactories {
  qobjectInput(value: QObject, opts?: { keyval?: boolean }): Visitor;
  qobjectOutput(): Visitor & { result(): QObject };
  stringInput(value: string): Visitor;
  stringOutput(human: boolean): Visitor & { result(): string };
}

export const qomVisitors: QomVisitorFactories = {
  qobjectInput: (value, opts) => new QObjectInputVisitor(value, { keyval: !!opts?.keyval }),
  qobjectOutput: () => new QObjectOutputVisitor(),
  stringInput: (value) => new StringInputVisitor(value),
  stringOutput: (human) => new StringOutputVisitor(human),
};
