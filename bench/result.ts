/** One measurement from a benchmark: `ops` per `unit` (e.g. 23000 'verifies/s'). */
export interface BenchResult {
  name: string;
  ops: number;
  unit: string;
  note?: string;
}
