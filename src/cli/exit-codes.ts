/** Exit codes of plan/apply/demo, a contract for CI scripts. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_DRIFT = 2;
