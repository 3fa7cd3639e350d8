/**
 * Reconcile's redundancy rules live next to the reducer whose marks they read
 * (shared/src/redundancy.ts); re-exported here for the reconciler.
 */
export {
  SAME_CHANGE_TOLERANCE_MS,
  isRedundantAfterReconcile,
  samePresence,
} from '@roomcast/shared';
