// Defends: the conformance runner's matcher follows the unified test format's "Evaluating Matches" rules.
import { describe, expect, test } from "bun:test";
import { Binary, Double, Int32, Long, ObjectId, Timestamp } from "bson";
import { match, MatchSyntaxError, type MatchEntities } from "./match";

const root = { root: true };
const nested = { root: false };

describe("match", () => {
  test("allows extra fields in a root-level document only", () => {
    expect(match({ x: 1 }, { x: 1, y: 1 }, root)).toBeNull();
    expect(match({ x: 1, y: 1 }, { x: 1 }, root)?.path).toBe("$.y");
    expect(match({ x: { y: 1 } }, { x: { y: 1, z: 1 } }, root)?.path).toBe("$.x");
    expect(match({ x: 1 }, { x: 1, y: 1 }, nested)?.path).toBe("$");
  });

  test("ignores key order", () => {
    expect(match({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }, root)).toBeNull();
  });

  test("compares int, long and double by value", () => {
    expect(match(1, new Double(1.0), root)).toBeNull();
    expect(match(1, Long.fromNumber(1), root)).toBeNull();
    expect(match(new Int32(5), 5, root)).toBeNull();
    expect(match(1, 1.5, root)).not.toBeNull();
    expect(match(1, "1", root)).not.toBeNull();
  });

  test("compares numeric BSON types too when exact types are asked for", () => {
    const exact = { root: false, exactTypes: true };
    expect(match([{ _id: new Int32(1), x: new Int32(11) }], [{ x: new Int32(11), _id: new Int32(1) }], exact)).toBeNull();
    expect(match({ x: new Int32(11) }, { x: new Double(11) }, exact)?.path).toBe("$.x");
    expect(match({ x: Long.fromNumber(5) }, { x: new Int32(5) }, exact)?.path).toBe("$.x");
    expect(match({ x: new Int32(11) }, { x: new Int32(11), y: 1 }, exact)?.path).toBe("$");
  });

  test("requires arrays of equal length whose elements are not root documents", () => {
    expect(match([1, 2, 3], [1, 2, 3, 4], root)).not.toBeNull();
    expect(match([{ x: 1 }], [{ x: 1, y: 1 }], root)?.path).toBe("$[0]");
  });

  test("treats the documents of an iterable result as root documents", () => {
    const options = { root: true, elementsAreRoot: true };
    expect(
      match(
        [{ x: 1 }, { x: 2 }],
        [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
        options,
      ),
    ).toBeNull();
    expect(match([{ x: 1 }], [{ x: 1 }, { x: 2 }], options)).not.toBeNull();
  });

  test("$$exists checks presence, and a null value exists", () => {
    expect(match({ a: { $$exists: true } }, { a: null }, root)).toBeNull();
    expect(match({ a: { $$exists: true } }, {}, root)?.path).toBe("$.a");
    expect(match({ a: { $$exists: false } }, {}, root)).toBeNull();
    expect(match({ a: { $$exists: false } }, { a: 1 }, root)).not.toBeNull();
    expect(match({ n: { a: { $$exists: false } } }, { n: {} }, root)).toBeNull();
  });

  test("$$unsetOrMatches accepts an absent value or a match", () => {
    const expected = { insertedId: { $$unsetOrMatches: 2 } };
    expect(match(expected, {}, root)).toBeNull();
    expect(match(expected, { insertedId: 2 }, root)).toBeNull();
    expect(match(expected, { insertedId: 3 }, root)).not.toBeNull();
    expect(match({ $$unsetOrMatches: { x: 1 } }, undefined, root)).toBeNull();
    expect(match({ r: { $$unsetOrMatches: { $$exists: true } } }, { r: 1 }, root)).toBeNull();
  });

  test("$$unsetOrMatches keeps the root-ness of the value it wraps", () => {
    expect(match({ $$unsetOrMatches: { x: 1 } }, { x: 1, y: 2 }, root)).toBeNull();
    expect(match({ a: { $$unsetOrMatches: { x: 1 } } }, { a: { x: 1, y: 2 } }, root)).not.toBeNull();
  });

  test("$$type checks BSON types", () => {
    expect(match({ $$type: ["int", "long"] }, Long.fromNumber(7), root)).toBeNull();
    expect(match({ $$type: "int" }, new Int32(0), root)).toBeNull();
    expect(match({ $$type: "int" }, new Double(0), root)).not.toBeNull();
    expect(match({ $$type: "object" }, { a: 1 }, root)).toBeNull();
    expect(match({ $$type: "object" }, [1], root)).not.toBeNull();
    expect(match({ $$type: "objectId" }, new ObjectId(), root)).toBeNull();
    expect(match({ $$type: "timestamp" }, new Timestamp({ t: 1, i: 1 }), root)).toBeNull();
    expect(match({ a: { $$type: "string" } }, {}, root)?.path).toBe("$.a");
  });

  test("$$type accepts every type a driver-promoted number may have had", () => {
    // The driver turns int32, int64 and double into JS numbers; 2.0 and 2 look the same.
    expect(match({ $$type: "double" }, 2, root)).toBeNull();
    expect(match({ $$type: "long" }, 2, root)).toBeNull();
    expect(match({ $$type: "int" }, 2.5, root)).not.toBeNull();
    expect(match({ $$type: "int" }, 2 ** 40, root)).not.toBeNull();
    expect(match({ $$type: "number" }, 2.5, root)).toBeNull();
  });

  test("$$lte applies flexible numerics", () => {
    expect(match({ $$lte: 1 }, new Double(1.0), root)).toBeNull();
    expect(match({ $$lte: 1 }, 0, root)).toBeNull();
    expect(match({ $$lte: 1 }, 1.1, root)).not.toBeNull();
  });

  test("$$matchesEntity and $$sessionLsid resolve entities", () => {
    const lsid = { id: new Binary(new Uint8Array(16).fill(7), 4) };
    const entities: MatchEntities = {
      bsonEntity: (name) => (name === "id0" ? 42 : undefined),
      sessionLsid: () => lsid,
    };
    expect(match({ _id: { $$matchesEntity: "id0" } }, { _id: 42 }, { root: true, entities })).toBeNull();
    expect(
      match({ lsid: { $$sessionLsid: "s0" } }, { lsid: { id: new Binary(new Uint8Array(16).fill(7), 4) } }, { root: true, entities }),
    ).toBeNull();
    expect(
      match({ lsid: { $$sessionLsid: "s0" } }, { lsid: { id: new Binary(new Uint8Array(16), 4) } }, { root: true, entities }),
    ).not.toBeNull();
  });

  test("$$matchAsDocument parses Extended JSON and $$matchAsRoot allows extra fields", () => {
    expect(match({ $$matchAsDocument: { a: 1 } }, '{"a": 1}', root)).toBeNull();
    expect(match({ $$matchAsDocument: { a: 1 } }, '{"a": 1, "b": 2}', root)).not.toBeNull();
    expect(match({ $$matchAsDocument: { $$matchAsRoot: { a: 1 } } }, '{"a": 1, "b": 2}', root)).toBeNull();
  });

  test("compares other BSON values by type and value", () => {
    const id = new ObjectId();
    expect(match({ _id: id }, { _id: new ObjectId(id.toHexString()) }, root)).toBeNull();
    expect(match({ _id: id }, { _id: new ObjectId() }, root)).not.toBeNull();
    expect(match(null, null, root)).toBeNull();
    expect(match(null, 0, root)).not.toBeNull();
  });

  test("rejects unknown special operators as a runner error", () => {
    expect(() => match({ $$nope: 1 }, 1, root)).toThrow(MatchSyntaxError);
  });

  test("$$matchesHexBytes compares bytes (or their hex string) case-insensitively", () => {
    expect(match({ $$matchesHexBytes: "0aFF" }, new Uint8Array([10, 255]), root)).toBeNull();
    expect(match({ $$matchesHexBytes: "0aff" }, "0AFF", root)).toBeNull();
    expect(match({ $$matchesHexBytes: "0a" }, new Uint8Array([11]), root)?.message).toContain("expected bytes 0a");
    expect(() => match({ $$matchesHexBytes: "abc" }, "abc", root)).toThrow(MatchSyntaxError);
  });
});
