/**
 * What a decision costs at a memory size, from the bench's measured CPU figures. Lambda gives a function CPU
 * in proportion to its memory, one vCPU at 1,769 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), and bills each request plus
 * memory x duration in 1 ms steps, the initialization code included (https://aws.amazon.com/lambda/pricing/).
 *
 * Assumptions, stated in docs/performance.md with the table: one core of the bench machine does what one Lambda vCPU
 * does; the work is single-threaded and CPU-bound, so its time scales with 1,769 MB / memory (never below
 * its time on one vCPU); a warm decision is billed as its median time rounded up to 1 ms (the runtime's own
 * per-invocation work is not in the figures, and the slow tail on a shared machine is its scheduler's, not
 * the decision's); the key fetch's network wait, the same at any size, is left out of the cold start.
 */

export const LAMBDA_COST = {
  /** Arm, US East (N. Virginia), first 7.5 billion GB-seconds a month: https://aws.amazon.com/lambda/pricing/ */
  usdPerGbSecond: 0.0000133334,
  /** Requests, either architecture: https://aws.amazon.com/lambda/pricing/ */
  usdPerMillionRequests: 0.2,
  /** Memory with the equivalent of one vCPU: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html */
  mbPerVcpu: 1769,
} as const;

export const MODEL_MEMORY_SIZES = [128, 256, 512, 1024] as const;

export interface CostRow {
  readonly memoryMb: number;
  readonly cpuShare: number;
  /** A warm decision's median time at this size, in ms. */
  readonly warmDecisionMs: number;
  /** Billed ms of a warm decision: its median time at this size, rounded up to 1 ms. */
  readonly billedMsPerDecision: number;
  readonly usdPerMillionDecisions: number;
  /** The cold start's CPU, process start to first decision, at this size. */
  readonly coldStartMs: number;
  readonly usdPerThousandColdStarts: number;
}

/**
 * The model's rows: `medianUs`, a warm decision's median time (µs, one vCPU); `coldStartCpuMs`, the CPU of a
 * cold start from process start to the first decision (one vCPU).
 */
export function costModel(medianUs: number, coldStartCpuMs: number): CostRow[] {
  return MODEL_MEMORY_SIZES.map((memoryMb) => {
    const cpuShare = Math.min(1, memoryMb / LAMBDA_COST.mbPerVcpu);
    const gb = memoryMb / 1024;
    const billed = Math.max(1, Math.ceil(medianUs / 1000 / cpuShare));
    const coldStartMs = coldStartCpuMs / cpuShare;
    return {
      memoryMb,
      cpuShare,
      warmDecisionMs: medianUs / 1000 / cpuShare,
      billedMsPerDecision: billed,
      usdPerMillionDecisions:
        LAMBDA_COST.usdPerMillionRequests + 1e6 * gb * (billed / 1000) * LAMBDA_COST.usdPerGbSecond,
      coldStartMs,
      usdPerThousandColdStarts: 1000 * gb * (coldStartMs / 1000) * LAMBDA_COST.usdPerGbSecond,
    };
  });
}
