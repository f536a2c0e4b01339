// Minimal types of the mljs packages without their own declarations (ml-logistic-regression 2.0, ml-cart 2.1).
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  /** One-vs-all logistic regression by gradient descent; each class's classifier scores "not this class" high. */
  class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
    classifiers: { testScores(X: Matrix): number[] }[];
  }
  export = LogisticRegression;
}
declare module 'ml-cart' {
  export class DecisionTreeClassifier {
    constructor(options?: { gainFunction?: string; maxDepth?: number; minNumSamples?: number });
    train(X: number[][], y: number[]): void;
    predict(X: number[][]): number[];
  }
}
