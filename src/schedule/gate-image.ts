/**
 * The health gate's default image, apart from the Chaos Mesh compiler: `faultline schedule
 * --help` shows it without loading the compiler and the experiment loader.
 */
/** The health gate's image: curl and a POSIX shell. */
export const DEFAULT_GATE_IMAGE = 'curlimages/curl:8.11.1';
