/** Test item ids of state tests: the matrix file's URI, then the suite, the cell (`SUITE.IMAGE@SALT`), the phase. Pure. */
export const itemIds = {
  suite: (file: string, suite: string) => `${file}::${suite}`,
  cell: (file: string, cell: { suite: { name: string }; image: { name: string }; salt?: string }) => `${file}::${cell.suite.name}.${cell.image.name}@${cell.salt ?? 'default'}`,
  phase: (cellId: string, phase: string) => `${cellId}::${phase}`,
};
