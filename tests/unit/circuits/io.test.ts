/** Circuit files (write, merge per method, read, schema checks) and the circuit graph page. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCircuitGraph } from '../../../src/circuits/graph.js';
import { CIRCUIT_SCHEMA_VERSION, checkpointTokenRange, circuitEntry, circuitFilePath, readCircuitFile, writeCircuitFile } from '../../../src/circuits/io.js';
import type { CircuitResult } from '../../../src/circuits/result.js';
import { ConfigError } from '../../../src/errors.js';
import { writeSafetensorsFile } from '../../../src/io/safetensors.js';
import { circuitGraphFigure, faithfulnessCurveFigure, writeCircuitGraph } from '../../../src/viz/circuit_graph.js';

const graph = buildCircuitGraph({ nLayers: 2, nHeads: 2, attnOnly: true });
const result = (method: CircuitResult['method']): CircuitResult => ({
  method,
  level: 'edge',
  ablation: 'resample',
  metric: { name: 'kl', higherIsBetter: false, threshold: 0.05, full: 0, circuit: 0.01 },
  faithfulness: { metric: 'logit_diff', full: 10, circuit: 9, empty: -10, ratio: 0.9 },
  nodes: ['input', 'a0.1', 'a1.0', 'logits'],
  edges: ['input->a0.1<v>', 'a0.1->a1.0<k>', 'a1.0->logits'],
  nodeScores: {},
  edgeScores: { 'a1.0->logits': 3, 'a0.1->a1.0<k>': 1.5, 'input->a0.1<v>': 0.7, 'a0.0->logits': 0.01 },
  trajectory: [{ step: 0, target: 'a0.0->logits', action: 'remove', metric: 0.01, damage: 0.01 }],
  forwardPasses: 30,
  curve: [
    { edges: 2, nodes: 3, parameter: 0.1, circuit: 2, ratio: 0.2 },
    { edges: 3, nodes: 4, parameter: 0.05, circuit: 9, ratio: 0.9 },
  ],
  selection: { rule: 'target', targetFaithfulness: 0.8, reached: true, text: 'the smallest circuit on the faithfulness curve reaching 0.8' },
});

describe('circuit files', () => {
  it('write, merge another method, read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-circuit-'));
    const path = join(dir, circuitFilePath('induction', 'tiny'));
    expect(path.endsWith(join('circuits', 'induction', 'tiny.json'))).toBe(true);
    writeCircuitFile(path, { task: 'induction', model: 'tiny', graph, entry: circuitEntry(graph, result('acdc'), { seed: 0 }) });
    writeCircuitFile(path, { task: 'induction', model: 'tiny', graph, entry: circuitEntry(graph, result('eap')) });
    const f = readCircuitFile(path);
    expect(f.schemaVersion).toBe(CIRCUIT_SCHEMA_VERSION);
    expect(Object.keys(f.circuits)).toEqual(['eap', 'acdc']);
    expect(f.graph).toEqual({ nLayers: 2, nHeads: 2, hasMlp: false, nodes: 6, edges: graph.edges.length });
    const acdc = f.circuits.acdc;
    expect(acdc?.curve?.length).toBe(2);
    expect(acdc?.selection?.rule).toBe('target');
    expect(acdc?.edges[1]).toEqual({ id: 'a0.1->a1.0<k>', from: 'a0.1', to: 'a1.0', channel: 'k', score: 1.5 });
    expect(acdc?.nodes[1]).toEqual({ id: 'a0.1', kind: 'head', layer: 0, head: 1 });
    expect(Object.keys(acdc?.scores.edges ?? {})).toEqual(['input->a0.1<v>', 'a0.1->a1.0<k>', 'a0.0->logits', 'a1.0->logits']); // graph order
    expect(acdc?.settings).toEqual({ seed: 0 });
  });

  it('rejects bad names, other schema versions and unknown ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-circuit-'));
    expect(() => circuitFilePath('a/b', 'm')).toThrow(/task name 'a\/b' must be a plain file name/);
    expect(() => readCircuitFile(join(dir, 'none.json'))).toThrow(/no file at/);
    writeFileSync(join(dir, 'v0.json'), JSON.stringify({ schemaVersion: 0, task: 't', model: 'm', graph: {}, circuits: {} }));
    expect(() => readCircuitFile(join(dir, 'v0.json'))).toThrow(/schemaVersion 0, expected 1/);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(() => readCircuitFile(join(dir, 'bad.json'))).toThrow(ConfigError);
    expect(() => circuitEntry(graph, { ...result('eap'), edges: ['x->y'] })).toThrow(/edge 'x->y' is not in the graph/);
  });
});

describe('checkpointTokenRange', () => {
  it('reads token_range from the safetensors metadata, undefined when absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-circuit-'));
    const t = { x: { dtype: 'F32' as const, shape: [1], data: [0] } };
    await writeSafetensorsFile(join(dir, 'model.safetensors'), t, { token_range: '1000-3000', steps: '5' });
    expect(checkpointTokenRange(dir)).toEqual([1000, 3000]);
    await writeSafetensorsFile(join(dir, 'model.safetensors'), t, { steps: '5' });
    expect(checkpointTokenRange(dir)).toBeUndefined();
    expect(checkpointTokenRange(join(dir, 'none'))).toBeUndefined();
  });
});

describe('circuit graph page', () => {
  it('lays nodes out by layer and scales edge widths by |score|', () => {
    const entry = circuitEntry(graph, result('acdc'));
    const fig = circuitGraphFigure({ nHeads: 2, nodes: entry.nodes, edges: entry.edges });
    const lines = fig.data.filter((t) => t['mode'] === 'lines' && t['showlegend'] === false);
    expect(lines.map((t) => (t['line'] as { width: number }).width)).toEqual([1 + (9 * 0.7) / 3, 1 + (9 * 1.5) / 3, 10]);
    const nodes = fig.data.at(-1) as { x: number[]; y: number[] };
    expect(nodes.x).toEqual([0, 1, 3, 5]); // input, L0 attn, L1 attn, logits (attention-only: no MLP columns used)
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-circuit-'));
    const html = readFileSync(writeCircuitGraph(join(dir, 'g.html'), { nHeads: 2, nodes: entry.nodes, edges: entry.edges, run: { ...entry, totalEdges: graph.edges.length } }, { title: 'ACDC' }), 'utf8');
    expect(html).toContain('a0.1->a1.0\\u003ck>: 1.500');
    expect(html).toContain('<th>faithfulness</th>');
    expect(html).toMatch(/<th>method<\/th><td>acdc: ACDC/);
    expect(() => circuitGraphFigure({ nHeads: 2, nodes: [], edges: entry.edges })).toThrow(/names a node not in the graph/);
    // The curve: a second figure with its axis titles, the line at 1, the target and the reported size.
    expect(html).toContain('edges kept');
    expect(html).toContain('faithfulness (circuit / full metric)');
    expect(html).toContain('full model (1)');
    expect(html).toContain('target (0.8)');
    expect(html).toContain('reported: 3 edges, 0.9');
    expect(html).toContain('<th>size</th>');
    const curveFig = faithfulnessCurveFigure(entry.curve ?? [], { edges: 3, ratio: 0.9 }, { target: 0.8 });
    expect(curveFig.data.length).toBe(4);
    expect(() => faithfulnessCurveFigure([], { edges: 1, ratio: 1 })).toThrow(/the curve has no points/);
  });
});
