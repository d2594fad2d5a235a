/* tslint:disable */
/* eslint-disable */

/**
 * A loaded ranking model (PMT coefficients and desil cut points).
 */
export class Model {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The model shipped in the package: illustrative, not BPS's official
     * coefficients (see `label`).
     */
    static builtin(): Model;
    /**
     * Effective date, `YYYY-MM-DD`.
     */
    readonly effectiveDate: string;
    /**
     * `{id, en}`: what this model is, e.g. "ilustratif — bukan koefisien resmi BPS".
     */
    readonly label: any;
    /**
     * True only for a model published by BPS.
     */
    readonly official: boolean;
    /**
     * Version recorded on every score.
     */
    readonly version: string;
}

/**
 * Program rules (PKH, Sembako/BPNT, PBI JKN, exclusions, graduation).
 */
export class ProgramRules {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The rules shipped in the package (2025 rules as reported).
     */
    static builtin(): ProgramRules;
    readonly version: string;
}

/**
 * A Kemendagri region table, loaded from `kode,nama` CSV text.
 */
export class Regions {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Loads a region table. Throws a `RangeError` with `code: "region_table"` and the line.
     */
    static fromCsv(text: string): Regions;
    /**
     * The name of a region by dotted code (`"11.01.01"`), or `undefined`.
     */
    name(code: string): string | undefined;
    /**
     * Number of regions loaded.
     */
    readonly size: number;
}

/**
 * A loaded questionnaire rulebook (variables, code lists, skip logic, rules).
 */
export class Rulebook {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The rulebook shipped in the package (Regsosek 2022 questionnaire).
     */
    static builtin(): Rulebook;
    /**
     * Version recorded on every validation report and change request.
     */
    readonly version: string;
}

/**
 * Applies a life event (a `ChangeRequest`) to a family at `today`. `target` is the
 * family merged into, for a `family_merge`. Returns `{result: "applied", keluarga,
 * other?, findings}` (the next version; `other` is a split's new family or a merge's
 * target) or `{result: "rejected", findings}`. Input of the wrong shape throws a
 * `TypeError` with `code: "invalid_input"`.
 */
export function applyEvent(rulebook: Rulebook, regions: Regions, keluarga: any, request: any, today: string, target: any): any;

/**
 * The SHA-256 (hex) of a request's canonical form, without its `hash`.
 */
export function contentHash(request: any): string;

/**
 * Eligibility for every program at `desil` (1–10): `{programs_version, desil,
 * programs: [{program, name, eligible, reasons, annual_benefit}]}`.
 */
export function eligibility(rules: ProgramRules, keluarga: any, desil: number, today: string): any;

/**
 * Graduation flags at the family's new `desil`: `{programs_version, desil,
 * programs: [{program, kind, reasons}], indicators_met, graduate}`.
 */
export function graduation(rules: ProgramRules, keluarga: any, desil: number, today: string): any;

/**
 * Loads a ranking model from its JSON text. Throws a `RangeError` with
 * `code: "model"` whose message names the place and the problem.
 */
export function loadModel(text: string): Model;

/**
 * Loads program rules from JSON text. Throws a `RangeError` with
 * `code: "program_rules"` naming the place and the problem.
 */
export function loadProgramRules(text: string): ProgramRules;

/**
 * Loads a rulebook from its JSON text. Throws a `RangeError` with `code: "rulebook"`
 * whose message names the place (JSON path, or rule id and position in an expression).
 */
export function loadRulebook(text: string): Rulebook;

/**
 * Reads a family from JSON text exactly as the core does (defaults filled in, e.g. a
 * member's presence 1 when absent). Input that is not a family throws a `TypeError`
 * with `code: "parse"` and `problems`: every problem with its path, expected and found.
 */
export function parseKeluarga(text: string): any;

/**
 * Scores a family (a `Keluarga` object) at `today` (`YYYY-MM-DD`): predicted
 * per-capita expenditure, desil, and the factors biggest first. A family with no
 * active member throws a `RangeError` with `code: "no_active_members"`.
 */
export function score(model: Model, keluarga: any, today: string): any;

/**
 * The request frozen for submission: `hash` set to the SHA-256 of its canonical form.
 */
export function seal(request: any): any;

/**
 * Validates a family at `today` (`YYYY-MM-DD`). `keluarga` is its JSON text or a plain
 * object; either is read like any outside input. Returns the report
 * `{valid, errors, warnings, rulebook_version, findings}`. Input that is not a family
 * throws a `TypeError` with `code: "parse"` and `problems`: every problem with its
 * path, expected and found.
 */
export function validate(rulebook: Rulebook, regions: Regions, keluarga: any, today: string): any;

/**
 * Validates a NIK: `request` is `{nik, birth_date?, sex?}`, `today` is `YYYY-MM-DD`.
 * Returns `{valid, findings, info?}` exactly as tepat-core produces it.
 */
export function validateNik(regions: Regions, request: any, today: string): any;

/**
 * Checks that a sealed request is unchanged: `"ok"`, `"missing"` (not sealed) or
 * `"mismatch"` (changed after sealing).
 */
export function verifyHash(request: any): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_model_free: (a: number, b: number) => void;
    readonly __wbg_programrules_free: (a: number, b: number) => void;
    readonly __wbg_regions_free: (a: number, b: number) => void;
    readonly __wbg_rulebook_free: (a: number, b: number) => void;
    readonly applyEvent: (a: number, b: number, c: any, d: any, e: number, f: number, g: any) => [number, number, number];
    readonly contentHash: (a: any) => [number, number, number, number];
    readonly eligibility: (a: number, b: any, c: number, d: number, e: number) => [number, number, number];
    readonly graduation: (a: number, b: any, c: number, d: number, e: number) => [number, number, number];
    readonly loadModel: (a: number, b: number) => [number, number, number];
    readonly loadProgramRules: (a: number, b: number) => [number, number, number];
    readonly loadRulebook: (a: number, b: number) => [number, number, number];
    readonly model_builtin: () => number;
    readonly model_effectiveDate: (a: number) => [number, number];
    readonly model_label: (a: number) => [number, number, number];
    readonly model_official: (a: number) => number;
    readonly model_version: (a: number) => [number, number];
    readonly parseKeluarga: (a: number, b: number) => [number, number, number];
    readonly programrules_builtin: () => number;
    readonly programrules_version: (a: number) => [number, number];
    readonly regions_fromCsv: (a: number, b: number) => [number, number, number];
    readonly regions_name: (a: number, b: number, c: number) => [number, number];
    readonly regions_size: (a: number) => number;
    readonly rulebook_builtin: () => number;
    readonly rulebook_version: (a: number) => [number, number];
    readonly score: (a: number, b: any, c: number, d: number) => [number, number, number];
    readonly seal: (a: any) => [number, number, number];
    readonly validate: (a: number, b: number, c: any, d: number, e: number) => [number, number, number];
    readonly validateNik: (a: number, b: any, c: number, d: number) => [number, number, number];
    readonly verifyHash: (a: any) => [number, number, number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
