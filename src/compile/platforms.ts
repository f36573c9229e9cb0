/**
 * The platforms `faultline compile` writes manifests for, apart from the compilers: the CLI
 * lists them in its help without loading the compilers (yaml, Chaos Mesh, Istio, FIS, Litmus).
 */
export const PLATFORMS = ['chaos-mesh', 'istio', 'aws-fis', 'litmus'] as const;
export type Platform = (typeof PLATFORMS)[number];
