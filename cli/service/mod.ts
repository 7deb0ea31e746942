/**
 * procrec as a systemd service: the unit (`procrec service unit|install`)
 * and the status of a segment directory (`procrec service status`).
 * Limitations: systemd only; the unit's writable directory is fixed when the
 * unit is written (`ReadWritePaths=`).
 *
 * @module
 */
export {
  SOURCE_CAPABILITIES,
  systemdUnit,
  type UnitOptions,
} from "./systemd_unit.ts";
export {
  MAX_TREE_ENTRIES,
  type NotRootOnly,
  pathNotRootOnly,
  treeNotRootOnly,
} from "./root_only.ts";
export {
  renderServiceStatus,
  type ServiceStatus,
} from "./render_service_status.ts";
