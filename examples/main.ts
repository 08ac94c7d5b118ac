/**
 * @file The main job (`npm start`). Until the constitutive-relation inference lands, it runs the quick
 * start: a gradient, a Taylor test and a Hessian action.
 */
import { quickstart } from "./quickstart.js";

const result = quickstart();
console.log("tsadjoint: J(x, k) = sin(k x) exp(-x^2/2) at x = 0.8, k = 2.5");
console.log(`  J                      = ${result.value.toFixed(12)}`);
console.log(`  gradient dJ/d(x, k)    = [${result.gradient.map((g) => g.toFixed(12)).join(", ")}]`);
console.log(
  `  Taylor rate (gradient) = ${result.taylorRate.toFixed(4)}   (about 2 when the gradient is right)`,
);
console.log(
  `  Taylor rate (Hessian)  = ${result.taylorRateHessian.toFixed(4)}   (about 3 when the Hessian is right)`,
);
console.log(`  Hessian action H[1, 0] = [${result.hessianAction.map((h) => h.toFixed(12)).join(", ")}]`);
console.log(`  blocks on the tape     = ${result.blocks}`);
