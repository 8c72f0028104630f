import { describe, it, expect, beforeEach } from 'vitest';
import {
  QomObject,
  ObjectClass,
  InterfaceClass,
  typeRegister,
  objectNew,
  objectNewChild,
  objectUnref,
  objectRef,
  objectUnparent,
  objectDynamicCast,
  objectCheck,
  objectClassDynamicCast,
  objectClassByName,
  objectClassGetList,
  objectClassGetParent,
  objectGetRoot,
  objectGetCanonicalPath,
  objectResolvePath,
  objectResolvePathType,
  objectResolvePathAt,
  objectResolveTypeUnambiguous,
  objectPropertyAddChild,
  objectPropertyAddLink,
  objectClassPropertyAddLink,
  objectPropertyAllowSetLink,
  objectPropertyFind,
  objectPropertyIter,
  objectPropertyGetQobject,
  objectPropertySetQobject,
  objectPropertyParse,
  objectPropertyPrint,
  objectPropertySetLink,
  objectPropertyGetLink,
  objectPropertyTryAdd,
  objectPropertySetDefaultInt,
  objectClassPropertyAdd,
  containerGet,
  qomResetRoot,
  OBJ_PROP_LINK_STRONG,
  TYPE_OBJECT,
} from './object.js';
import {
  objectPropertyAddBool,
  objectClassPropertyAddStr,
  objectClassPropertyAddEnum,
  objectPropertyAddUint32Ptr,
  objectPropertyAddTm,
  objectPropertyAddAlias,
  OBJ_PROP_FLAG_READWRITE,
} from './object-props.js';

// A small hierarchy: animal (abstract) <- dog <- puppy; "barker" interface implemented by dog.
class AnimalClass extends ObjectClass {
  speak: (a: Animal) => string = () => '...';
  legs = 4;
}
class Animal extends QomObject {
  name = '';
  log: string[] = [];
}
class Dog extends Animal {
  owner: QomObject | null = null;
  age = 0;
}
class DogClass extends AnimalClass {
  parentSpeak!: (a: Animal) => string;
}
class BarkerClass extends InterfaceClass {
  bark!: (o: QomObject) => string;
}
const finalized: string[] = [];

typeRegister({ name: 'barker', parent: 'interface', class: BarkerClass });
typeRegister({ name: 'loud-barker', parent: 'barker' });
typeRegister<Animal, AnimalClass>({
  name: 'animal',
  parent: TYPE_OBJECT,
  abstract: true,
  instance: Animal,
  class: AnimalClass,
  classInit(k) {
    objectClassPropertyAddStr<Animal>(
      k,
      'name',
      (o) => o.name,
      (o, v) => {
        o.name = v;
      },
    );
  },
  instanceInit(o) {
    o.log.push('animal-init');
  },
  instancePostInit(o) {
    o.log.push('animal-post');
  },
  instanceFinalize(o) {
    finalized.push(`animal:${o.name}`);
  },
});
typeRegister<Dog, DogClass>({
  name: 'dog',
  parent: 'animal',
  instance: Dog,
  class: DogClass,
  interfaces: ['barker'],
  classInit(k) {
    k.parentSpeak = k.speak;
    k.speak = (a) => `woof (was ${k.parentSpeak(a)})`;
    const bc = objectClassDynamicCast<BarkerClass>(k, 'barker')!;
    bc.bark = () => 'WOOF';
    objectClassPropertyAddLink(
      k,
      'owner',
      'animal',
      'owner',
      objectPropertyAllowSetLink,
      OBJ_PROP_LINK_STRONG,
    );
    const p = objectClassPropertyAdd(
      k,
      'age',
      'uint32',
      (o, v, n) => void v.typeUint32(n, (o as Dog).age),
      (o, v, n) => {
        (o as Dog).age = v.typeUint32(n);
      },
    );
    objectPropertySetDefaultInt(p, 3);
    objectClassPropertyAddEnum<Dog>(
      k,
      'mood',
      'DogMood',
      ['happy', 'sad'],
      () => 'happy',
      () => {},
    );
  },
  instanceInit(o) {
    o.log.push(`dog-init age=${o.age}`);
  },
  instancePostInit(o) {
    o.log.push('dog-post');
  },
  instanceFinalize(o) {
    finalized.push(`dog:${o.name}`);
  },
});
typeRegister<Dog, DogClass>({ name: 'puppy', parent: 'dog', classInit: (k) => void (k.legs = 5) });
typeRegister({ name: 'cat', parent: 'animal', instance: Animal, interfaces: ['loud-barker'] });

beforeEach(() => {
  qomResetRoot();
  finalized.length = 0;
});

describe('type system', () => {
  it('creates instances with init order base->derived and post-init derived->base, class defaults first', () => {
    const d = objectNew<Dog>('dog');
    expect(d).toBeInstanceOf(Dog);
    expect(d.log).toEqual(['animal-init', 'dog-init age=3', 'dog-post', 'animal-post']);
  });

  it('rejects abstract and unknown types with QEMU messages', () => {
    expect(() => objectNew('animal')).toThrow("object type 'animal' is abstract");
    expect(() => objectNew('no-such')).toThrow('invalid object type: no-such');
    expect(() => typeRegister({ name: 'dog', parent: 'animal' })).toThrow(
      "Registering 'dog' which already exists",
    );
  });

  it('copies the parent class so subclasses inherit and can chain overridden methods', () => {
    const dc = objectClassByName('dog') as DogClass;
    const pc = objectClassByName('puppy') as DogClass;
    const d = objectNew<Dog>('dog');
    expect(dc.speak(d)).toBe('woof (was ...)');
    expect(pc.speak(d)).toBe('woof (was ...)');
    expect(pc.legs).toBe(5);
    expect(dc.legs).toBe(4);
    expect(objectClassGetParent(pc)).toBe(dc);
  });

  it('casts objects and classes, including through interfaces', () => {
    const p = objectNew('puppy');
    expect(objectDynamicCast(p, 'animal')).toBe(p);
    expect(objectDynamicCast(p, 'barker')).toBe(p);
    expect(objectDynamicCast(p, 'cat')).toBeNull();
    expect(objectDynamicCast(p, 'unknown-type')).toBeNull();
    const bc = objectClassDynamicCast<BarkerClass>(p.class, 'barker')!;
    expect(bc).toBeInstanceOf(BarkerClass);
    expect(bc.bark(p)).toBe('WOOF');
    expect(bc.concreteClass).toBe(p.class);
    expect(() => objectCheck(p, 'cat')).toThrow("Object of type 'puppy' is not an instance of type cat");
    const c = objectNew('cat');
    expect(objectDynamicCast(c, 'barker')).toBe(c);
    expect(objectDynamicCast(c, 'loud-barker')).toBe(c);
    expect(objectDynamicCast(p, 'loud-barker')).toBeNull();
  });

  it('lists classes by implemented type', () => {
    const names = (l: ObjectClass[]) => l.map((k) => k.type.name).sort();
    expect(names(objectClassGetList('animal', false))).toEqual(['cat', 'dog', 'puppy']);
    expect(names(objectClassGetList('animal', true))).toEqual(['animal', 'cat', 'dog', 'puppy']);
    expect(names(objectClassGetList('barker', false))).toEqual(['cat', 'dog', 'puppy']);
  });
});

describe('properties', () => {
  it('inherits class properties, iterates instance then derived->base class properties', () => {
    const p = objectNew<Dog>('puppy');
    objectPropertyAddBool(p, 'good', () => true);
    expect([...objectPropertyIter(p)].map((x) => x.name)).toEqual([
      'good',
      'owner',
      'age',
      'mood',
      'name',
      'type',
    ]);
    expect(objectPropertyGetQobject(p, 'type')).toBe('puppy');
    expect(objectPropertyFind(p, 'age')?.defval).toBe(3);
  });

  it('gets and sets through visitors with QEMU errors', () => {
    const d = objectNew<Dog>('dog');
    objectPropertySetQobject(d, 'name', 'rex');
    expect(d.name).toBe('rex');
    objectPropertyParse(d, 'age', '7');
    expect(objectPropertyGetQobject(d, 'age')).toBe(7);
    expect(objectPropertyPrint(d, 'age', true)).toBe('7 (0x7)');
    expect(objectPropertyPrint(d, 'name', true)).toBe('"rex"');
    expect(() => objectPropertySetQobject(d, 'name', 1)).toThrow(
      "Invalid parameter type for 'name', expected: string",
    );
    expect(() => objectPropertySetQobject(d, 'nope', 1)).toThrow("Property 'dog.nope' not found");
    expect(() => objectPropertySetQobject(d, 'type', 'x')).toThrow("Property 'dog.type' is not writable");
    expect(() => objectPropertySetQobject(d, 'mood', 'angry')).toThrow(
      "Parameter 'mood' does not accept value 'angry'",
    );
    expect(() => objectPropertySetQobject(d, 'age', 1n << 40n)).toThrow("Parameter 'age' expects uint32");
    expect(() => objectPropertyTryAdd(d, 'name', 'string')).toThrow(
      "attempt to add duplicate property 'name' to object (type 'dog')",
    );
  });

  it('supports [*] auto-indexed names, uint ptr, tm and alias helpers', () => {
    const d = objectNew<Dog>('dog');
    const a = objectPropertyTryAdd(d, 'slot[*]', 'int');
    const b = objectPropertyTryAdd(d, 'slot[*]', 'int');
    expect([a.name, b.name]).toEqual(['slot[0]', 'slot[1]']);
    objectPropertyAddUint32Ptr(d, 'age2', 'age', OBJ_PROP_FLAG_READWRITE);
    objectPropertySetQobject(d, 'age2', 11);
    expect(d.age).toBe(11);
    const born = { tm_year: 120, tm_mon: 1, tm_mday: 2, tm_hour: 3, tm_min: 4, tm_sec: 5 };
    objectPropertyAddTm(d, 'born', () => ({ ...born }));
    expect(objectPropertyGetQobject(d, 'born')).toEqual(born);
    objectPropertyAddAlias(d, 'years', d, 'age');
    objectPropertySetQobject(d, 'years', 12);
    expect(d.age).toBe(12);
    expect(objectPropertyFind(d, 'years')?.type).toBe('uint32');
  });
});

describe('composition and links', () => {
  it('child<> gives ownership and canonical paths; unparent finalizes', () => {
    const m = containerGet(objectGetRoot(), '/machine');
    const d = objectNewChild<Dog>(m, 'rex', 'dog');
    d.name = 'rex';
    expect(d.ref).toBe(1);
    expect(objectPropertyFind(m, 'rex')?.type).toBe('child<dog>');
    expect(objectGetCanonicalPath(d)).toBe('/machine/rex');
    expect(objectPropertyGetQobject(m, 'rex')).toBe('/machine/rex');
    objectUnparent(d);
    expect(finalized).toEqual(['dog:rex', 'animal:rex']);
    expect(d.finalized).toBe(true);
    expect(objectPropertyFind(m, 'rex')).toBeNull();
  });

  it('keeps an object alive while someone else holds a reference', () => {
    const d = objectNewChild<Dog>(objectGetRoot(), 'rex', 'dog');
    objectRef(d);
    objectUnparent(d);
    expect(finalized).toEqual([]);
    expect(objectGetCanonicalPath(d)).toBeNull();
    objectUnref(d);
    expect(finalized.length).toBe(2);
  });

  it('link<> resolves typed targets, refuses wrong types and unknown paths, holds strong refs', () => {
    const root = objectGetRoot();
    const d = objectNewChild<Dog>(root, 'rex', 'dog');
    const c = objectNewChild<Animal>(root, 'tom', 'cat');
    const holder = objectNewChild<Dog>(root, 'fido', 'dog');
    objectPropertySetLink(holder, 'owner', d);
    expect(holder.owner).toBe(d);
    expect(d.ref).toBe(2);
    expect(objectPropertyGetQobject(holder, 'owner')).toBe('/rex');
    expect(objectPropertyGetLink(holder, 'owner')).toBe(d);
    objectPropertySetQobject(holder, 'owner', 'tom');
    expect(holder.owner).toBe(c);
    expect(d.ref).toBe(1);
    const box = objectNewChild(root, 'box', 'container');
    expect(() => objectPropertySetQobject(holder, 'owner', '/box')).toThrow(
      "Invalid parameter type for 'owner', expected: animal",
    );
    try {
      objectPropertySetQobject(holder, 'owner', '/nowhere');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe("Device '/nowhere' not found");
      expect((e as { errorClass: string }).errorClass).toBe('DeviceNotFound');
    }
    objectPropertySetQobject(holder, 'owner', '');
    expect(holder.owner).toBeNull();
    expect(c.ref).toBe(1);
    // read-only link (no check callback)
    objectPropertyAddLink(box, 'pet', 'dog', { get: () => d, set: () => {} });
    expect(() => objectPropertySetQobject(box, 'pet', '/rex')).toThrow(
      "Property 'container.pet' is not writable",
    );
    expect(objectResolvePath('/box/pet')).toBe(d);
  });

  it('resolves absolute, partial, typed and ambiguous paths', () => {
    const root = objectGetRoot();
    const a = containerGet(root, '/a');
    const b = containerGet(root, '/b');
    const d1 = objectNewChild(a, 'rex', 'dog');
    const d2 = objectNewChild(b, 'rex', 'puppy');
    const c = objectNewChild(b, 'tom', 'cat');
    expect(objectResolvePath('/a/rex')).toBe(d1);
    expect(objectResolvePath('/a//rex')).toBe(d1);
    expect(objectResolvePath('/a/nope')).toBeNull();
    expect(objectResolvePath('tom')).toBe(c);
    const amb = { ambiguous: false };
    expect(objectResolvePath('rex', amb)).toBeNull();
    expect(amb.ambiguous).toBe(true);
    const amb2 = { ambiguous: false };
    expect(objectResolvePath('b/rex', amb2)).toBe(d2);
    expect(amb2.ambiguous).toBe(false);
    expect(objectResolvePathType('rex', 'puppy')).toBe(d2);
    expect(objectResolvePathType('/a/rex', 'cat')).toBeNull();
    expect(objectResolvePathAt(b, 'tom')).toBe(c);
    expect(objectResolvePathAt(a, 'tom')).toBeNull();
    expect(objectResolveTypeUnambiguous('cat')).toBe(c);
    expect(() => objectResolveTypeUnambiguous('dog')).toThrow('More than one object of type dog');
    expect(() => objectResolveTypeUnambiguous('barker-none')).toThrow('No object found of type barker-none');
    expect(objectResolvePath('')).toBeNull(); // every object matches "": ambiguous
  });

  it('attaching an object twice is refused', () => {
    const root = objectGetRoot();
    const d = objectNewChild(root, 'rex', 'dog');
    expect(() => objectPropertyAddChild(root, 'rex2', d)).toThrow(/already has a parent/);
    expect(() => objectNewChild(root, 'rex', 'dog')).toThrow(
      "attempt to add duplicate property 'rex' to object (type 'container')",
    );
  });
});
