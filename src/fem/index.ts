/**
 * @file `tsadjoint/fem`: a small P1 finite-element toolkit for inverse problems. Triangle meshes (built-in
 * and from arrays), the constant operators of the P1 space, point observations, and the recorded assembly
 * and Newton solve of -div q(grad u; theta) = f whose derivatives with respect to theta come from the tape.
 * No Node built-ins: it runs in a browser.
 */
import "../values/ndarray-space.js";

export {
  elementGradients,
  type FluxFunction,
  type FluxResidualOptions,
  fluxResidual,
  gaussianMisfit,
  observe,
  type SolveFluxOptions,
  solveFlux,
} from "./assembly.js";
export { readGmsh, writeGmsh } from "./gmsh.js";
export {
  flattenValues,
  jacobianByColumns,
  type LaplaceApproximation,
  type LaplaceOptions,
  laplaceApproximation,
  NORMAL_95,
  propagatedStandardDeviations,
  symmetricEigen,
} from "./laplace.js";
export {
  annulusMesh,
  type ElementGeometry,
  elementGeometry,
  lShapeMesh,
  type Mesh,
  rectangleMesh,
  SQUARE_TAGS,
  type TriangleMeshOptions,
  triangleMesh,
  unitSquareMesh,
  withDirichletTags,
} from "./mesh.js";
export { formatObservations, type Observations, parseObservations } from "./observations.js";
export {
  barycentric,
  evaluateP1,
  findElement,
  locateElement,
  meshBounds,
  observationOffsets,
  observationOperator,
  sensorPoints,
} from "./sensors.js";
export {
  dirichletGradient,
  type ElementTangentAssembly,
  elementTangentAssembly,
  expandToAllNodes,
  fullLoadVector,
  gradientOperator,
  jacobianPattern,
  loadVector,
  neumannLoad,
  nodalLoadVector,
  nodalValues,
  type P1Space,
  p1Space,
  restrictToUnknowns,
  stiffnessMatrix,
} from "./space.js";
export { readVtu, type VtuContents, type VtuField, writeVtu } from "./vtu.js";
