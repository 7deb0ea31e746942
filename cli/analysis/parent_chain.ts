/**
 * How far `search` and `hunt` name a hit's parents. Walking every hit's whole
 * chain grows with the square of a deep tree's depth, so both stop at the
 * nearest {@link MAX_PARENTS} and end the list with {@link CHAIN_GOES_ON}
 * when there are more.
 *
 * @module
 */

/** Parents a hit names at most, nearest first. */
export const MAX_PARENTS = 64;

/** The last of a hit's parents when there are more than {@link MAX_PARENTS}. */
export const CHAIN_GOES_ON = "...";
