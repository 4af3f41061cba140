// The mcbench/result@1 JSON Schema (src/core/result.schema.json, `npm run schema`): it matches
// the types it is generated from, documents every field, and real results validate against it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_FILE, formatSchema, generateResultSchema } from './helpers/result-schema.mjs';
import { TestNetns } from './helpers/netns.js';

type Json = Record<string, unknown>;
const committed = (): Json => JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;

describe('the committed schema', () => {
  it('equals a fresh generation from the types (run `npm run schema` after changing them)', () => {
    const t0 = Date.now();
    const fresh = formatSchema(generateResultSchema());
    // Generation is a full TypeScript program build: about a second; fail loudly if it balloons.
    expect(Date.now() - t0).toBeLessThan(20000);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(fresh);
  });

  it('has an $id, a title and a description, and is draft-07', () => {
    const s = committed();
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.$id).toBe('urn:mcbench:result@1');
    expect(s.title).toBe('mcbench/result@1');
    expect(String(s.description)).not.toBe('');
  });

  it('describes every property of every definition, $ref properties included', () => {
    const missing: string[] = [];
    let seen = 0;
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}/${i}`));
      const o = node as Json;
      if (o.properties && typeof o.properties === 'object') {
        for (const [key, prop] of Object.entries(o.properties as Record<string, Json>)) {
          seen++;
          if (typeof prop.description !== 'string' || prop.description.trim() === '') missing.push(`${path}/properties/${key}`);
          walk(prop, `${path}/properties/${key}`);
        }
      }
      for (const [key, value] of Object.entries(o)) if (key !== 'properties') walk(value, `${path}/${key}`);
    };
    walk(committed(), '#');
    expect(seen).toBeGreaterThan(200);
    expect(missing, `properties without a description (add a /** */ to the field in src/core, then npm run schema):\n${missing.join('\n')}`).toEqual([]);
  });
});

describe('real results validate', () => {
  const GROUP = '239.255.10.2';
  let ns: TestNetns;
  let dir: string;
  let validate: ValidateFunction;
  const doc = (name: string): Json => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Json;
  const explain = (errors: ErrorObject[] | null | undefined) => JSON.stringify(errors, null, 2);

  beforeAll(async () => {
    validate = new Ajv({ allErrors: true }).compile(committed());
    ns = await TestNetns.create();
    dir = mkdtempSync(join(tmpdir(), 'mcbench-schema-'));
    const complete = async () => {
      const rx = ns.mcbench(['recv', '-g', GROUP, '-p', '5201', '-t', '20', '--json', join(dir, 'recv.json')]);
      await rx.waitFor('listening on');
      const tx = await ns.mcbench(['send', '-g', GROUP, '-p', '5201', '--pps', '1000', '-l', '200', '-t', '1', '--json', join(dir, 'send.json')]).done;
      expect(tx.code, tx.stderr).toBe(0);
      const r = await rx.done;
      expect(r.code, r.stderr).toBe(0);
    };
    // A sender that dies without FIN: the receiver ends at --idle-timeout with a partial result.
    const partial = async () => {
      const rx = ns.mcbench(['recv', '-g', GROUP, '-p', '5202', '-t', '20', '--idle-timeout', '0.5', '--json', join(dir, 'partial.json')]);
      await rx.waitFor('listening on');
      const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5202', '--pps', '1000', '-l', '200', '-t', '30', '-i', '0.5']);
      await tx.waitFor('0.00-0.50 sec');
      tx.child.kill('SIGKILL');
      await tx.done;
      const r = await rx.done;
      expect(r.code, r.stderr).toBe(0);
    };
    await Promise.all([complete(), partial()]);
  });
  afterAll(async () => {
    await ns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['send.json', 'sender', 'time'],
    ['recv.json', 'receiver', 'fin'],
    ['partial.json', 'receiver', 'idle-timeout'],
  ])('%s (%s, ended by %s)', (file, role, reason) => {
    const d = doc(file);
    expect((d.start as Json).role).toBe(role);
    expect((d.end as Json).end_reason).toBe(reason);
    expect(validate(d), explain(validate.errors)).toBe(true);
  });

  it('the schema is not vacuous: a result missing a required field or with a wrong type fails', () => {
    const missing = doc('recv.json');
    const session = ((missing.end as Json).sessions as Json[])[0]!;
    delete session.lost_packets;
    expect(validate(missing)).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/end/sessions/0' && e.params.missingProperty === 'lost_packets'), explain(validate.errors)).toBe(true);

    const wrongType = doc('send.json');
    (wrongType.end as Json).packets = '1000';
    expect(validate(wrongType)).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/end/packets' && e.keyword === 'type'), explain(validate.errors)).toBe(true);

    const extra = doc('partial.json');
    (extra.end as Json).lost_pakets = 0; // a typo'd field: additionalProperties is false everywhere
    expect(validate(extra)).toBe(false);
  });
});
