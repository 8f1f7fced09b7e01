"""``dancu register``: build the clean register from canonical files, and show, compare or roll back its versions.

dancu register --base BASE [--extract EXTRACT ...] --out DIR     register.parquet + changes.parquet (+ .xlsx)
dancu register show PERSON [--night NIGHT]                       one person's golden record and its lineage
dancu register diff NIGHT1 NIGHT2                                what changed in the register between two nights
dancu register rollback NIGHT                                    undo NIGHT (and later nights)
dancu register nights                                            the nights that have a version
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

import polars as pl

from matchers.engine.clustering import person_clusters
from matchers.engine.files import read_table
from matchers.engine.index import BaseIndex
from matchers.engine.linker import dedupe
from matchers.engine.population import population_settings
from matchers.engine.settings import MatchSettings
from normalize.columns import NORMALIZED_COLUMNS
from normalize.frame import normalize_records
from pipelines.commands.dedupe import add_threshold_options, thresholds_of
from pipelines.engine_options import EngineResource, add_engine_options, engine_of, spark_for
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from pipelines.person_files import read_command_records, read_spark_records
from pipelines.progress import terminal_progress
from pipelines.resources import DEFAULT_OUTPUT_DIR
from records.schema import CANONICAL_SCHEMA
from register.changes import FIELD_LABELS, STATUS_LABELS, build_changes, changes_by_rule, write_changes_excel
from register.golden import build_golden
from register.rules import survivorship_rules
from register.store import RegisterStore, StoreError
from register.types import source_column

DEFAULT_STATE = Path(DEFAULT_OUTPUT_DIR) / "state" / "register"
SOURCE_NAMES = {"base": "CSDL dân cư", "residence": "Cư trú", "civil_status": "Hộ tịch", "card": "Cấp thẻ"}


def _normalized(frame: pl.DataFrame, night: dt.date) -> pl.DataFrame:
    """Every normalized column the register reads: a file that lacks some is normalized again from its canonical
    columns (as of ``night``)."""
    if all(c in frame.columns for c in NORMALIZED_COLUMNS):
        return frame
    canonical = frame.select([c for c in frame.columns if c in CANONICAL_SCHEMA])
    return normalize_records(canonical, as_of=night)


def _build(args: argparse.Namespace) -> int:
    if args.base is None or args.out is None:
        raise CommandError(
            "cần --base và --out (hoặc một lệnh con: show, diff, rollback, nights) / need --base and --out"
        )
    started = time.perf_counter()
    try:
        night = dt.date.fromisoformat(args.night) if args.night else dt.date.today()
    except ValueError:
        raise CommandError(f"--night phải có dạng YYYY-MM-DD, nhận được '{args.night}'") from None
    settings = population_settings(thresholds=thresholds_of(args))
    engine = engine_of(args)
    if engine.is_spark:
        return _build_on_spark(args, engine, settings, night, started)
    try:
        with terminal_progress("dancu register: ") as progress:
            progress("chuẩn hóa / normalizing", 0, None)
            base = _normalized(read_command_records(args.base, settings, args.out, as_of=night), night)
            extracts = [
                _normalized(read_command_records(path, settings, args.out, as_of=night), night)
                for path in args.extract or []
            ]
            labels = read_table(args.labels) if args.labels else None
            found = [dedupe(base, settings, labels=labels, progress=progress).pairs]
            if extracts:
                index, _ = BaseIndex.ensure(base, settings, args.out / "match_index")
                found.extend(index.link(extract, labels=labels).pairs for extract in extracts)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    records = pl.concat([base, *extracts], how="diagonal_relaxed")
    duplicated = records.filter(pl.col("record_id").is_duplicated())["record_id"].unique()
    if duplicated.len():
        raise CommandError(f"mã bản ghi trùng giữa các tệp / duplicate record ids: {', '.join(duplicated.head(5))}")
    pairs = pl.concat(found, how="diagonal_relaxed")
    with terminal_progress("dancu register: ") as progress:
        progress("gom cụm người / clustering", 0, records.height)
        clusters, _ = person_clusters(records, pairs, settings)
        progress("sổ dân cư sạch / golden records", 0, clusters.height)
        build = build_golden(records, clusters, night)
        progress("sổ dân cư sạch / golden records", clusters.height, clusters.height)
    changes = build_changes(build, night)
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(build.register, args.out / "register.parquet")
    write_parquet_atomic(changes, args.out / "changes.parquet")
    statuses = dict(build.register.group_by("status").len().sort("status").iter_rows())
    _report(args.out, records.height, build.register.height, statuses, changes, night, started)
    return 0


def _report(
    out: Path,
    records: int,
    persons: int,
    statuses: dict[str, int],
    changes: pl.DataFrame,
    night: dt.date,
    started: float,
) -> None:
    rules = survivorship_rules()
    write_changes_excel(out / "changes.xlsx", changes, night, labels=rules.change_rules)
    print(f"Bản ghi / records: {records:,} → người / persons: {persons:,} {statuses}")
    print(f"Thay đổi đề nghị / changes: {changes.height:,}")
    for row in changes_by_rule(changes, night, rules.change_rules).iter_rows(named=True):
        print(f"  {row['rule']:<32} {row['changes']:>8,}  {row['label']}")
    print(f"Thời gian / time: {time.perf_counter() - started:.1f} s")
    written = ", ".join(str(out / name) for name in ("register.parquet", "changes.parquet", "changes.xlsx"))
    print(f"Đã ghi / written: {written}")


def _build_on_spark(
    args: argparse.Namespace, engine: EngineResource, settings: MatchSettings, night: dt.date, started: float
) -> int:
    """The same build on Spark: matching (``scaleout.linker``), clusters and the register's own builders per
    partition of person keys (``scaleout.register``); register and change set as folders of part files."""
    with spark_for(engine) as spark:
        from pyspark.sql import functions as F

        from scaleout import clustering, linker
        from scaleout.frames import ROW, read_parquet, write_parquet
        from scaleout.normalize import normalize_dataframe
        from scaleout.register import build_register

        def normalized(path: Path) -> Any:
            frame = read_spark_records(spark, path, settings, args.out, as_of=night)
            if all(c in frame.columns for c in NORMALIZED_COLUMNS):
                return frame
            canonical = [c for c in frame.columns if c in CANONICAL_SCHEMA or c == ROW]
            return normalize_dataframe(frame.select(*canonical), as_of=night)

        try:
            base = normalized(args.base)
            extracts = [normalized(path) for path in args.extract or []]
            labels = read_table(args.labels) if args.labels else None
            deduped = linker.dedupe(base, settings, labels=labels)
            found = [
                deduped.pairs,
                *(linker.link(extract, base, settings, labels=labels).pairs for extract in extracts),
            ]
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        # The files one after the other, row numbers running on: the embedded engine's concatenation.
        records, offset = base, base.count()
        for extract in extracts:
            records = records.unionByName(extract.withColumn(ROW, F.col(ROW) + F.lit(offset)), allowMissingColumns=True)
            offset += extract.count()
        duplicated = [
            row["record_id"] for row in records.groupBy("record_id").count().where("count > 1").limit(5).collect()
        ]
        if duplicated:
            raise CommandError(f"mã bản ghi trùng giữa các tệp / duplicate record ids: {', '.join(duplicated)}")
        pairs = found[0]
        for more in found[1:]:
            pairs = pairs.unionByName(more)
        clusters, _ = clustering.person_clusters(records, pairs, settings)
        built = build_register(records, clusters, night)
        args.out.mkdir(parents=True, exist_ok=True)
        write_parquet(built.register, args.out / "register.parquet", order=["person_key", "_seq"], drop=["_seq"])
        write_parquet(built.changes, args.out / "changes.parquet", order=["person_key", "_seq"], drop=["_seq"])
        register = read_parquet(spark, args.out / "register.parquet")
        statuses = {row["status"]: int(row["count"]) for row in register.groupBy("status").count().collect()}
        changes = pl.read_parquet(args.out / "changes.parquet")
        _report(args.out, offset, register.count(), dict(sorted(statuses.items())), changes, night, started)
    return 0


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _show(args: argparse.Namespace) -> int:
    store = RegisterStore(args.state)
    try:
        found = store.find_person(args.person, args.night)
        night = args.night or store.current()
    except StoreError as error:
        raise CommandError(str(error)) from error
    if found.height == 0:
        raise CommandError(f"không có người nào ứng với '{args.person}' trong sổ đêm {night} / no such person")
    for row in found.iter_rows(named=True):
        print(f"Mã người / person key: {row['person_key']}   (sổ dân cư sạch đêm {night})")
        print(f"Tình trạng / status: {STATUS_LABELS.get(row['status'], row['status'])}   "
              f"{'có' if row['in_base'] else 'không có'} bản ghi trong CSDL dân cư")  # fmt: skip
        print(f"Bản ghi / records: {_value(row['record_ids'])}")
        if row["conflicts"]:
            evidence = _value(row["conflict_record_ids"])
            print(f"Mâu thuẫn chưa giải quyết / conflicts: {_value(row['conflicts'])} ({evidence})")
        print(f"{'Trường':<34} {'Giá trị':<60} Nguồn (bản ghi, nguồn, đêm)")
        for column in (*survivorship_rules().columns, "status"):
            value = row.get(column)
            if value is None:
                continue
            lineage = row.get(source_column(column)) or {}
            origin = (
                f"{lineage.get('record_id')}, {SOURCE_NAMES.get(lineage.get('source') or '', lineage.get('source'))}"
                f"{' (' + lineage['event_type'] + ')' if lineage.get('event_type') else ''}, {lineage.get('night')}"
            )
            shown = STATUS_LABELS.get(value, value) if column == "status" else value
            print(f"{FIELD_LABELS.get(column, column)[:34]:<34} {_value(shown)[:60]:<60} {origin}")
        print()
    return 0


def _diff(args: argparse.Namespace) -> int:
    store = RegisterStore(args.state)
    try:
        diff = store.diff(args.first, args.second)
    except StoreError as error:
        raise CommandError(str(error)) from error
    persons = diff["person_key"].n_unique()
    print(f"Sổ dân cư sạch {args.first} → {args.second}: {diff.height:,} giá trị khác nhau ở {persons:,} người")
    by_field = diff.group_by("field").len().sort("len", descending=True)
    for field, count in by_field.iter_rows():
        print(f"  {FIELD_LABELS.get(field, field):<40} {count:>8,}")
    if args.out:
        write_parquet_atomic(diff, args.out)
        print(f"Đã ghi / written: {args.out}")
    else:
        # On screen in the officers' words: the field by its label, the person by "Mã người".
        head = diff.head(args.limit)
        nights = [c for c in head.columns if c not in ("person_key", "field")]
        shown = head.with_columns(
            *(
                pl.when(pl.col("field") == "status")
                .then(pl.col(c).replace_strict(STATUS_LABELS, default=pl.col(c)))
                .otherwise(pl.col(c))
                .alias(c)
                for c in nights
            ),
            pl.col("field").replace_strict(FIELD_LABELS, default=pl.col("field")),
        ).rename({"person_key": "Mã người", "field": "Trường thông tin"})
        with pl.Config(tbl_rows=args.limit, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
            print(shown)
    return 0


def _rollback(args: argparse.Namespace) -> int:
    store = RegisterStore(args.state)
    try:
        undone = store.rollback(args.night)
    except StoreError as error:
        raise CommandError(str(error)) from error
    for night, version in sorted(undone.removed.items()):
        print(f"Hoàn tác đêm {night} (phiên bản {version} vẫn lưu trong {store.root / 'versions'})")
    if undone.current:
        print(f"Sổ dân cư sạch hiện là phiên bản đêm {undone.current}: {store.register_path()}")
    else:
        print("Sổ dân cư sạch không còn phiên bản nào / the register has no version now")
    return 0


def _nights(args: argparse.Namespace) -> int:
    store = RegisterStore(args.state)
    catalog = store.catalog()
    if not catalog["nights"]:
        print(f"{store.root}: chưa có phiên bản nào / no version yet")
        return 0
    for night in store.nights():
        manifest = store.manifest(night)
        mark = "*" if night == catalog["current"] else " "
        print(f"{mark} {night}  {manifest['persons']:>10,} người  {manifest['changes']:>10,} thay đổi  "
              f"{store.version_dir(night)}")  # fmt: skip
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "register",
        help="sổ dân cư sạch: dựng từ tệp chuẩn, xem, so sánh, hoàn tác / the clean register",
        description=(
            "Dựng sổ dân cư sạch (mỗi người một bản ghi vàng, có nguồn gốc) và bộ thay đổi từ tệp cơ sở và tệp trích "
            "xuất (Parquet/CSV, lược đồ chuẩn hoặc đã chuẩn hóa); hoặc xem, so sánh, hoàn tác các phiên bản mà quy "
            "trình hằng đêm lưu trong var/state/register. Builds the clean register and change set from canonical "
            "files, or shows, compares and rolls back the nightly versions."
        ),
    )
    parser.add_argument("--base", type=Path, help="tệp cơ sở / base file")
    parser.add_argument("--extract", type=Path, action="append", help="tệp trích xuất (lặp lại được) / extract file")
    parser.add_argument("--out", type=Path, help="thư mục kết quả / output folder")
    parser.add_argument("--night", help="đêm xử lý YYYY-MM-DD (mặc định hôm nay) / the night")
    add_threshold_options(parser)
    add_engine_options(parser)
    parser.set_defaults(handler=_build)
    commands = parser.add_subparsers(dest="register_command", metavar="{show,diff,rollback,nights}")

    def state(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"kho sổ sạch (mặc định {DEFAULT_STATE})")

    show = commands.add_parser("show", help="bản ghi vàng của một người / one person's golden record")
    show.add_argument("person", help="mã người, mã bản ghi hoặc số định danh / person key, record id or personal ID")
    show.add_argument("--night", help="phiên bản của đêm này (mặc định: hiện hành) / version of this night")
    state(show)
    show.set_defaults(handler=_show)
    diff = commands.add_parser("diff", help="khác biệt giữa hai đêm / differences between two nights")
    diff.add_argument("first", metavar="NIGHT1")
    diff.add_argument("second", metavar="NIGHT2")
    diff.add_argument("--out", type=Path, help="ghi toàn bộ khác biệt ra Parquet / write every difference to Parquet")
    diff.add_argument("--limit", type=int, default=30, help="số dòng in ra (mặc định 30)")
    state(diff)
    diff.set_defaults(handler=_diff)
    rollback = commands.add_parser("rollback", help="hoàn tác một đêm / roll a night back")
    rollback.add_argument("night", metavar="NIGHT")
    state(rollback)
    rollback.set_defaults(handler=_rollback)
    nights = commands.add_parser("nights", help="các đêm có phiên bản / the nights that have a version")
    state(nights)
    nights.set_defaults(handler=_nights)
