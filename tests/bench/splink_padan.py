"""Splink on the matching benchmark's files, beside `tepat match` (cargo xtask bench padan).

Usage: python splink_padan.py DIR

Reads DIR/register.jsonl (active members), DIR/dukcapil.csv and DIR/truth.csv, links
them with Splink (DuckDB) on the same comparisons and blocking rules as Tepat's person
model, keeps links one-to-one (strongest first), and prints one line
SPLINK-RESULT {json} with precision and recall of match (p >= 0.99) and of
match + possible (p >= 0.5), pairs scored and seconds (reading included).

The benchmark installs splink and duckdb in a virtual environment under target/; this
is never a test dependency.
"""

import json
import re
import sys
import time

import duckdb  # noqa: F401  (the backend Splink uses)
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def clean(name):
    """Lower case, letters, digits and single spaces: Splink's usual preparation."""
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z ]", " ", str(name).lower())).strip()


def register_members(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            fam = json.loads(line)
            village = fam.get("address", {}).get("village", "")
            for pos, m in enumerate(fam.get("anggota", [])):
                if m.get("presence", 1) not in (1, 5):
                    continue
                rows.append(
                    {
                        "unique_id": f"r{len(rows)}",
                        "nik": m["nik"],
                        "nama": clean(m["name"]),
                        "tanggal_lahir": m["birth_date"],
                        "jenis_kelamin": str(m["sex"]),
                        "kode_wilayah": village,
                        "no_kk": fam["no_kk"],
                        "member_number": m.get("number", pos + 1),
                    }
                )
    return pd.DataFrame(rows)


def with_keys(df):
    df["tahun_lahir"] = df["tanggal_lahir"].str[:4]
    df["kecamatan"] = df["kode_wilayah"].str[:8]
    df["kabupaten"] = df["kode_wilayah"].str[:5]
    return df


def main(d):
    started = time.time()
    reg = with_keys(register_members(f"{d}/register.jsonl"))
    duk = pd.read_csv(f"{d}/dukcapil.csv", dtype=str, keep_default_na=False)
    duk = with_keys(
        pd.DataFrame(
            {
                "unique_id": "d" + duk["nik"],
                "nik": duk["nik"],
                "nama": duk["nama"].map(clean),
                "tanggal_lahir": duk["tanggal_lahir"],
                "jenis_kelamin": duk["jenis_kelamin"],
                "kode_wilayah": duk["kode_wilayah"],
                "no_kk": duk["no_kk"],
                "member_number": 0,
            }
        )
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.LevenshteinAtThresholds("nik", [1]),
            cl.JaroWinklerAtThresholds("nama", [0.92, 0.80]).configure(
                term_frequency_adjustments=True
            ),
            cl.DateOfBirthComparison("tanggal_lahir", input_is_string=True),
            cl.ExactMatch("jenis_kelamin"),
            cl.CustomComparison(
                output_column_name="kode_wilayah",
                comparison_levels=[
                    cll.NullLevel("kode_wilayah"),
                    cll.ExactMatchLevel("kode_wilayah"),
                    cll.ExactMatchLevel("kecamatan"),
                    cll.ExactMatchLevel("kabupaten"),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nik"),
            block_on("kecamatan", "tanggal_lahir"),
            block_on("nama", "tanggal_lahir"),
            block_on("nama", "kecamatan"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(
        [db.register(reg, dataset_display_name="register"),
            db.register(duk, dataset_display_name="dukcapil"),],
        settings,
        log_level="WARNING",
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik", "tanggal_lahir")], recall=0.95
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("kecamatan", "tanggal_lahir")
    )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    pairs = len(pred)
    # One-to-one, strongest first.
    pred = pred.sort_values("match_probability", ascending=False)
    used_l, used_r, keep = set(), set(), []
    for ul, ur, p in zip(pred["unique_id_l"], pred["unique_id_r"], pred["match_probability"]):
        if ul in used_l or ur in used_r:
            continue
        used_l.add(ul)
        used_r.add(ur)
        keep.append((ul, ur, p))
    seconds = time.time() - started
    members = reg.set_index("unique_id")[["no_kk", "member_number"]].to_dict("index")
    truth = pd.read_csv(f"{d}/truth.csv", dtype=str, keep_default_na=False)
    t = {
        "d" + r.source_id: (r.no_kk, int(r.member_number))
        for r in truth.itertuples(index=False)
    }

    def accuracy(threshold):
        predicted = correct = 0
        for ul, ur, p in keep:
            if p < threshold:
                continue
            # The register is the first dataset: its ids start with "r".
            reg_id, duk_id = (ul, ur) if ul.startswith("r") else (ur, ul)
            predicted += 1
            m = members[reg_id]
            if t.get(duk_id) == (m["no_kk"], int(m["member_number"])):
                correct += 1
        return (correct / predicted if predicted else 1.0), correct / max(len(t), 1)

    mp, mr = accuracy(0.99)
    pp, pr = accuracy(0.5)
    print(
        "SPLINK-RESULT "
        + json.dumps(
            {
                "members": len(reg),
                "rows": len(duk),
                "pairs_above_0_5": pairs,
                "seconds": round(seconds, 2),
                "match_precision": round(mp, 5),
                "match_recall": round(mr, 5),
                "possible_precision": round(pp, 5),
                "possible_recall": round(pr, 5),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])
