/**
 * Classification metrics against scikit-learn's documented examples (confusion_matrix,
 * classification_report text), the thresholds chosen on validation scores (max F1 = probe's
 * maxF1Threshold; Youden's J by hand), and typed errors.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';
import {
  argmaxRows,
  chooseThreshold,
  classificationReport,
  confusionMatrix,
  formatClassificationReport,
} from '../../../src/evals/classification.js';
import { maxF1Threshold } from '../../../src/probe/metrics.js';

describe('confusionMatrix', () => {
  it('matches the scikit-learn docs example', () => {
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])).toEqual([[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
    expect(confusionMatrix([0, 0], [0, 0], 3)).toEqual([[2, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });

  it('throws typed errors', () => {
    expect(() => confusionMatrix([0, 1], [0])).toThrow(ShapeError);
    expect(() => confusionMatrix([], [])).toThrow(DatasetError);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/true label 1 is 3/);
    expect(() => confusionMatrix([0, 1], [0, -1])).toThrow(/prediction 1 is -1/);
  });
});

describe('classificationReport', () => {
  // scikit-learn docs: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1]
  const r = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], { classNames: ['class 0', 'class 1', 'class 2'] });

  it('has the per-class, macro and weighted figures', () => {
    expect(r.perClass.map((c) => c.precision)).toEqual([0.5, 0, 1]);
    expect(r.perClass[2]?.recall).toBeCloseTo(2 / 3, 12);
    expect(r.perClass[0]?.f1).toBeCloseTo(2 / 3, 12);
    expect(r.perClass[2]?.f1).toBeCloseTo(0.8, 12);
    expect(r.accuracy).toBe(0.6);
    expect(r.macro.precision).toBeCloseTo(0.5, 12);
    expect(r.macro.recall).toBeCloseTo(5 / 9, 12);
    expect(r.macro.f1).toBeCloseTo((2 / 3 + 0.8) / 3, 12);
    expect(r.weighted.precision).toBeCloseTo(0.7, 12);
    expect(r.weighted.f1).toBeCloseTo((2 / 3 + 2.4) / 5, 12);
    expect(r.perClass.map((c) => c.support)).toEqual([1, 1, 3]);
  });

  it('prints exactly as scikit-learn classification_report', () => {
    expect(formatClassificationReport(r)).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
  });

  it('rounds exact halves to even as Python does (0.125 → 0.12, 0.375 → 0.38)', () => {
    // class 0 predicted 8 times, 1 right → precision 0.125; class 1: 3 of 8 → 0.375
    const yPred = [...new Array<number>(8).fill(0), ...new Array<number>(8).fill(1)];
    const yTrue = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    const text = formatClassificationReport(classificationReport(yTrue, yPred));
    expect(text).toContain('           0       0.12');
    expect(text).toContain('           1       0.38');
  });

  it('rejects a wrong number of class names', () => {
    expect(() => classificationReport([0, 1], [0, 1], { classNames: ['a'] })).toThrow(ConfigError);
  });
});

describe('dataset-sized inputs', () => {
  it('classificationReport without nClasses takes 300 000 rows (no Math.max spread: no stack overflow)', () => {
    const y = Array.from({ length: 300_000 }, (_, i) => i % 3);
    const r = classificationReport(y, y);
    expect(r.accuracy).toBe(1);
    expect(r.perClass).toHaveLength(3);
  });
});

describe('argmaxRows', () => {
  it('takes the first largest entry', () => {
    expect(argmaxRows([[0.1, 2], [3, -1], [1, 1]])).toEqual([1, 0, 0]);
    expect(() => argmaxRows([[]])).toThrow(ShapeError);
  });
});

describe('chooseThreshold', () => {
  const scores = [0.1, 0.4, 0.35, 0.8];
  const labels = [0, 0, 1, 1] as const;

  it('max F1: agrees with probe maxF1Threshold', () => {
    const t = chooseThreshold(scores, [...labels], 'f1');
    expect(t.threshold).toBeCloseTo(0.225, 12);
    expect(t.value).toBeCloseTo(0.8, 12);
    const p = maxF1Threshold(scores, [...labels]);
    expect(t.threshold).toBe(p.threshold);
    expect(t.value).toBe(p.f1);
  });

  it("Youden's J = TPR − FPR, ties keep the higher threshold", () => {
    const t = chooseThreshold(scores, [...labels], 'youden');
    expect(t.threshold).toBeCloseTo(0.6, 12);
    expect(t.value).toBeCloseTo(0.5, 12);
    const perfect = chooseThreshold([0.2, 0.9, 0.1, 0.7], [0, 1, 0, 1], 'youden');
    expect(perfect.threshold).toBeCloseTo(0.45, 12);
    expect(perfect.value).toBe(1);
  });

  it('throws typed errors', () => {
    expect(() => chooseThreshold([0.1], [0, 1])).toThrow(ShapeError);
    expect(() => chooseThreshold([0.1, 0.2], [1, 1])).toThrow(/need both classes/);
    expect(() => chooseThreshold([NaN, 0.2], [0, 1])).toThrow(DatasetError);
    expect(() => chooseThreshold([0.1, 0.2], [0, 2])).toThrow(/label 1 is 2/);
  });
});
