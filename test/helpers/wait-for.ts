/**
 * Moved to bench/lib/wait-for.ts (shared by the benches and the integration tests). This
 * re-export keeps the tests written on other branches against the old path compiling; import
 * from bench/lib in new code and delete this file once nothing imports it.
 */
export * from '../../bench/lib/wait-for.ts';
