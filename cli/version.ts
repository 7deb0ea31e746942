/** The version of procrec written into every recording. */
export const TOOL_VERSION = "0.1.0";
