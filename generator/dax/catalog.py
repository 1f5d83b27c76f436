"""Catalog of DAX functions: name, argument count, result kind and category.

The one list of DAX functions: analysis and lint check calls against it, the engine
rejects every name here it has no handler for with "not supported by the pbi-forge DAX
engine" (a name *not* here is an unknown function), and `docs/dax-support.md` is
rendered from it (`render_markdown`, given the engine's handlers and the oracle).

Source: the DAX function reference (learn.microsoft.com/dax, dax.guide), including the
window / visual-calculation and INFO.* families, and every function probed by the
Desktop-captured oracle in ../shared/dax-corpus/oracle/ (a test checks the latter).

Argument counts include omitted arguments (``RANKX(t, e,,, DENSE)`` has five).
``max_args`` is None for variadic functions. ``returns`` is ``scalar``, ``table`` or
``any`` (functions whose result kind follows an argument, e.g. EVALUATEANDLOG).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    min_args: int
    max_args: int | None
    returns: str  # "scalar" | "table" | "any"
    category: str

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return f"exactly {self.min_args}"
        return f"{self.min_args} to {self.max_args}"


# One function per line: NAME MIN MAX(* = variadic) RETURNS, grouped by category.
_TABLE = {
    "aggregation": """
        APPROXIMATEDISTINCTCOUNT 1 1 scalar
        AVERAGE 1 1 scalar
        AVERAGEA 1 1 scalar
        AVERAGEX 2 2 scalar
        COUNT 1 1 scalar
        COUNTA 1 1 scalar
        COUNTAX 2 2 scalar
        COUNTBLANK 1 1 scalar
        COUNTROWS 0 1 scalar
        COUNTX 2 2 scalar
        DISTINCTCOUNT 1 1 scalar
        DISTINCTCOUNTNOBLANK 1 1 scalar
        MAX 1 2 scalar
        MAXA 1 1 scalar
        MAXX 2 3 scalar
        MIN 1 2 scalar
        MINA 1 1 scalar
        MINX 2 3 scalar
        PRODUCT 1 1 scalar
        PRODUCTX 2 2 scalar
        SUM 1 1 scalar
        SUMX 2 2 scalar
    """,
    "date and time": """
        CALENDAR 2 2 table
        CALENDARAUTO 0 1 table
        DATE 3 3 scalar
        DATEDIFF 3 3 scalar
        DATEVALUE 1 1 scalar
        DAY 1 1 scalar
        EDATE 2 2 scalar
        EOMONTH 2 2 scalar
        HOUR 1 1 scalar
        MINUTE 1 1 scalar
        MONTH 1 1 scalar
        NETWORKDAYS 2 4 scalar
        NOW 0 0 scalar
        QUARTER 1 1 scalar
        SECOND 1 1 scalar
        TIME 3 3 scalar
        TIMEVALUE 1 1 scalar
        TODAY 0 0 scalar
        UTCNOW 0 0 scalar
        UTCTODAY 0 0 scalar
        WEEKDAY 1 2 scalar
        WEEKNUM 1 2 scalar
        YEAR 1 1 scalar
        YEARFRAC 2 3 scalar
    """,
    "filter": """
        ALL 0 * table
        ALLCROSSFILTERED 1 1 table
        ALLEXCEPT 2 * table
        ALLNOBLANKROW 1 * table
        ALLSELECTED 0 * table
        CALCULATE 1 * scalar
        CALCULATETABLE 1 * table
        EARLIER 1 2 scalar
        EARLIEST 1 1 scalar
        FILTER 2 2 table
        INDEX 1 7 table
        KEEPFILTERS 1 1 table
        LOOKUPVALUE 3 * scalar
        MATCHBY 1 * table
        OFFSET 1 7 table
        ORDERBY 1 * table
        PARTITIONBY 1 * table
        RANK 0 7 scalar
        REMOVEFILTERS 0 * table
        ROWNUMBER 0 6 scalar
        SELECTEDVALUE 1 2 scalar
        WINDOW 2 10 table
    """,
    "visual calculation": """
        COLLAPSE 0 2 any
        COLLAPSEALL 1 2 any
        EXPAND 0 2 any
        EXPANDALL 1 2 any
        FIRST 1 3 scalar
        ISATLEVEL 1 1 scalar
        LAST 1 3 scalar
        LOOKUP 1 * scalar
        LOOKUPWITHTOTALS 1 * scalar
        MOVINGAVERAGE 2 5 scalar
        NEXT 1 4 scalar
        PREVIOUS 1 4 scalar
        RANGE 1 5 table
        RUNNINGSUM 1 4 scalar
    """,
    "financial": """
        ACCRINT 6 8 scalar
        ACCRINTM 4 5 scalar
        AMORDEGRC 6 7 scalar
        AMORLINC 6 7 scalar
        COUPDAYBS 3 4 scalar
        COUPDAYS 3 4 scalar
        COUPDAYSNC 3 4 scalar
        COUPNCD 3 4 scalar
        COUPNUM 3 4 scalar
        COUPPCD 3 4 scalar
        CUMIPMT 6 6 scalar
        CUMPRINC 6 6 scalar
        DB 4 5 scalar
        DDB 4 5 scalar
        DISC 4 5 scalar
        DOLLARDE 2 2 scalar
        DOLLARFR 2 2 scalar
        DURATION 5 6 scalar
        EFFECT 2 2 scalar
        FV 3 5 scalar
        INTRATE 4 5 scalar
        IPMT 4 6 scalar
        ISPMT 4 4 scalar
        MDURATION 5 6 scalar
        NOMINAL 2 2 scalar
        NPER 3 5 scalar
        ODDFPRICE 8 9 scalar
        ODDFYIELD 8 9 scalar
        ODDLPRICE 7 8 scalar
        ODDLYIELD 7 8 scalar
        PDURATION 3 3 scalar
        PMT 3 5 scalar
        PPMT 4 6 scalar
        PRICE 6 7 scalar
        PRICEDISC 4 5 scalar
        PRICEMAT 5 6 scalar
        PV 3 5 scalar
        RATE 3 6 scalar
        RECEIVED 4 5 scalar
        RRI 3 3 scalar
        SLN 3 3 scalar
        SYD 4 4 scalar
        TBILLEQ 3 3 scalar
        TBILLPRICE 3 3 scalar
        TBILLYIELD 3 3 scalar
        VDB 5 7 scalar
        XIRR 3 5 scalar
        XNPV 4 4 scalar
        YIELD 6 7 scalar
        YIELDDISC 4 5 scalar
        YIELDMAT 5 6 scalar
    """,
    "information": """
        COLUMNSTATISTICS 0 0 table
        CONTAINS 3 * scalar
        CONTAINSROW 2 * scalar
        CONTAINSSTRING 2 2 scalar
        CONTAINSSTRINGEXACT 2 2 scalar
        CUSTOMDATA 0 0 scalar
        HASONEFILTER 1 1 scalar
        HASONEVALUE 1 1 scalar
        ISAFTER 2 * scalar
        ISBLANK 1 1 scalar
        ISBOOLEAN 1 1 scalar
        ISCROSSFILTERED 1 1 scalar
        ISCURRENCY 1 1 scalar
        ISDATETIME 1 1 scalar
        ISDECIMAL 1 1 scalar
        ISDOUBLE 1 1 scalar
        ISEMPTY 1 1 scalar
        ISERROR 1 1 scalar
        ISEVEN 1 1 scalar
        ISFILTERED 1 1 scalar
        ISINSCOPE 1 1 scalar
        ISINT64 1 1 scalar
        ISINTEGER 1 1 scalar
        ISLOGICAL 1 1 scalar
        ISNONTEXT 1 1 scalar
        ISNUMBER 1 1 scalar
        ISNUMERIC 1 1 scalar
        ISODD 1 1 scalar
        ISONORAFTER 2 * scalar
        ISSELECTEDMEASURE 1 * scalar
        ISSTRING 1 1 scalar
        ISSUBTOTAL 1 1 scalar
        ISTEXT 1 1 scalar
        NONVISUAL 1 1 table
        SELECTEDMEASURE 0 0 scalar
        SELECTEDMEASUREFORMATSTRING 0 0 scalar
        SELECTEDMEASURENAME 0 0 scalar
        USERCULTURE 0 0 scalar
        USERNAME 0 0 scalar
        USEROBJECTID 0 0 scalar
        USERPRINCIPALNAME 0 0 scalar
    """,
    "logical": """
        AND 2 2 scalar
        COALESCE 2 * scalar
        FALSE 0 0 scalar
        IF 2 3 scalar
        IF.EAGER 2 3 scalar
        IFERROR 2 2 scalar
        NOT 1 1 scalar
        OR 2 2 scalar
        SWITCH 3 * scalar
        TRUE 0 0 scalar
    """,
    "math and trig": """
        ABS 1 1 scalar
        ACOS 1 1 scalar
        ACOSH 1 1 scalar
        ACOT 1 1 scalar
        ACOTH 1 1 scalar
        ASIN 1 1 scalar
        ASINH 1 1 scalar
        ATAN 1 1 scalar
        ATANH 1 1 scalar
        BITAND 2 2 scalar
        BITLSHIFT 2 2 scalar
        BITOR 2 2 scalar
        BITRSHIFT 2 2 scalar
        BITXOR 2 2 scalar
        CEILING 2 2 scalar
        CEILING.MATH 1 3 scalar
        COMBIN 2 2 scalar
        COMBINA 2 2 scalar
        CONVERT 2 2 scalar
        COS 1 1 scalar
        COSH 1 1 scalar
        COT 1 1 scalar
        COTH 1 1 scalar
        CURRENCY 1 1 scalar
        DEGREES 1 1 scalar
        DIVIDE 2 3 scalar
        EVEN 1 1 scalar
        EXP 1 1 scalar
        FACT 1 1 scalar
        FLOOR 2 2 scalar
        FLOOR.MATH 1 3 scalar
        GCD 2 2 scalar
        INT 1 1 scalar
        ISO.CEILING 1 2 scalar
        LCM 2 2 scalar
        LN 1 1 scalar
        LOG 1 2 scalar
        LOG10 1 1 scalar
        MOD 2 2 scalar
        MROUND 2 2 scalar
        ODD 1 1 scalar
        PERMUT 2 2 scalar
        PI 0 0 scalar
        POWER 2 2 scalar
        QUOTIENT 2 2 scalar
        RADIANS 1 1 scalar
        RAND 0 0 scalar
        RANDBETWEEN 2 2 scalar
        ROUND 2 2 scalar
        ROUNDDOWN 2 2 scalar
        ROUNDUP 2 2 scalar
        SIGN 1 1 scalar
        SIN 1 1 scalar
        SINH 1 1 scalar
        SQRT 1 1 scalar
        SQRTPI 1 1 scalar
        TAN 1 1 scalar
        TANH 1 1 scalar
        TRUNC 1 2 scalar
    """,
    "other": """
        BLANK 0 0 scalar
        ERROR 1 1 scalar
        EVALUATEANDLOG 1 3 any
        EXTERNALMEASURE 3 3 scalar
        NAMEOF 1 1 scalar
        TABLEOF 1 1 table
        TOCSV 1 4 scalar
        TOJSON 1 2 scalar
    """,
    "parent and child": """
        PATH 2 2 scalar
        PATHCONTAINS 2 2 scalar
        PATHITEM 2 3 scalar
        PATHITEMREVERSE 2 3 scalar
        PATHLENGTH 1 1 scalar
    """,
    "relationship": """
        CROSSFILTER 3 3 table
        RELATED 1 1 scalar
        RELATEDTABLE 1 1 table
        USERELATIONSHIP 2 2 table
    """,
    "statistical": """
        BETA.DIST 4 6 scalar
        BETA.INV 3 5 scalar
        CHISQ.DIST 3 3 scalar
        CHISQ.DIST.RT 2 2 scalar
        CHISQ.INV 2 2 scalar
        CHISQ.INV.RT 2 2 scalar
        CONFIDENCE.NORM 3 3 scalar
        CONFIDENCE.T 3 3 scalar
        EXPON.DIST 3 3 scalar
        GEOMEAN 1 1 scalar
        GEOMEANX 2 2 scalar
        LINEST 2 * table
        LINESTX 3 * table
        MEDIAN 1 1 scalar
        MEDIANX 2 2 scalar
        NORM.DIST 4 4 scalar
        NORM.INV 3 3 scalar
        NORM.S.DIST 2 2 scalar
        NORM.S.INV 1 1 scalar
        PERCENTILE.EXC 2 2 scalar
        PERCENTILE.INC 2 2 scalar
        PERCENTILEX.EXC 3 3 scalar
        PERCENTILEX.INC 3 3 scalar
        POISSON.DIST 3 3 scalar
        RANK.EQ 2 3 scalar
        RANKX 2 5 scalar
        SAMPLE 3 * table
        STDEV.P 1 1 scalar
        STDEV.S 1 1 scalar
        STDEVX.P 2 2 scalar
        STDEVX.S 2 2 scalar
        T.DIST 3 3 scalar
        T.DIST.2T 2 2 scalar
        T.DIST.RT 2 2 scalar
        T.INV 2 2 scalar
        T.INV.2T 2 2 scalar
        VAR.P 1 1 scalar
        VAR.S 1 1 scalar
        VARX.P 2 2 scalar
        VARX.S 2 2 scalar
    """,
    "table manipulation": """
        ADDCOLUMNS 3 * table
        ADDMISSINGITEMS 2 * table
        CROSSJOIN 2 * table
        CURRENTGROUP 0 0 table
        DATATABLE 3 * table
        DETAILROWS 1 1 table
        DISTINCT 1 1 table
        EXCEPT 2 2 table
        FILTERS 1 1 table
        GENERATE 2 2 table
        GENERATEALL 2 2 table
        GENERATESERIES 2 3 table
        GROUPBY 1 * table
        IGNORE 1 1 any
        INTERSECT 2 2 table
        NATURALINNERJOIN 2 2 table
        NATURALJOINUSAGE 1 1 table
        NATURALLEFTOUTERJOIN 2 2 table
        ROLLUP 1 * table
        ROLLUPADDISSUBTOTAL 2 * table
        ROLLUPGROUP 1 * table
        ROLLUPISSUBTOTAL 1 * table
        ROW 2 * table
        SAMPLEAXISWITHLOCALMINMAX 4 * table
        SAMPLECARTESIANPOINTSBYCOVER 4 * table
        SELECTCOLUMNS 2 * table
        SUBSTITUTEWITHINDEX 3 * table
        SUMMARIZE 1 * table
        SUMMARIZECOLUMNS 1 * table
        TOPN 2 * table
        TOPNSKIP 3 * table
        TREATAS 2 * table
        UNION 2 * table
        VALUES 1 1 table
    """,
    "text": """
        COMBINEVALUES 3 * scalar
        CONCATENATE 2 2 scalar
        CONCATENATEX 2 5 scalar
        EXACT 2 2 scalar
        FIND 2 4 scalar
        FIXED 1 3 scalar
        FORMAT 2 3 scalar
        LEFT 1 2 scalar
        LEN 1 1 scalar
        LOWER 1 1 scalar
        MID 3 3 scalar
        REPLACE 4 4 scalar
        REPT 2 2 scalar
        RIGHT 1 2 scalar
        SEARCH 2 4 scalar
        SUBSTITUTE 3 4 scalar
        TRIM 1 1 scalar
        UNICHAR 1 1 scalar
        UNICODE 1 1 scalar
        UPPER 1 1 scalar
        VALUE 1 1 scalar
    """,
    "time intelligence": """
        CLOSINGBALANCEMONTH 2 3 scalar
        CLOSINGBALANCEQUARTER 2 3 scalar
        CLOSINGBALANCEWEEK 2 3 scalar
        CLOSINGBALANCEYEAR 2 4 scalar
        DATEADD 3 5 table
        DATESBETWEEN 3 3 table
        DATESINPERIOD 4 6 table
        DATESMTD 1 2 table
        DATESQTD 1 2 table
        DATESWTD 1 2 table
        DATESYTD 1 2 table
        ENDOFMONTH 1 1 table
        ENDOFQUARTER 1 1 table
        ENDOFWEEK 1 1 table
        ENDOFYEAR 1 2 table
        FIRSTDATE 1 1 table
        FIRSTNONBLANK 2 2 table
        FIRSTNONBLANKVALUE 2 2 scalar
        LASTDATE 1 1 table
        LASTNONBLANK 2 2 table
        LASTNONBLANKVALUE 2 2 scalar
        NEXTDAY 1 1 table
        NEXTMONTH 1 1 table
        NEXTQUARTER 1 1 table
        NEXTWEEK 1 1 table
        NEXTYEAR 1 2 table
        OPENINGBALANCEMONTH 2 3 scalar
        OPENINGBALANCEQUARTER 2 3 scalar
        OPENINGBALANCEWEEK 2 3 scalar
        OPENINGBALANCEYEAR 2 4 scalar
        PARALLELPERIOD 3 3 table
        PREVIOUSDAY 1 1 table
        PREVIOUSMONTH 1 1 table
        PREVIOUSQUARTER 1 1 table
        PREVIOUSWEEK 1 1 table
        PREVIOUSYEAR 1 2 table
        SAMEPERIODLASTYEAR 1 1 table
        STARTOFMONTH 1 1 table
        STARTOFQUARTER 1 1 table
        STARTOFWEEK 1 1 table
        STARTOFYEAR 1 2 table
        TOTALMTD 2 * scalar
        TOTALQTD 2 * scalar
        TOTALWTD 2 * scalar
        TOTALYTD 2 * scalar
    """,
}

# INFO.* DMV functions: all return tables; optional restriction arguments.
_INFO = """
    ALTERNATEOFDEFINITIONS ANNOTATIONS ATTRIBUTEHIERARCHIES ATTRIBUTEHIERARCHYSTORAGES
    CALCDEPENDENCY CALCULATIONGROUPS CALCULATIONITEMS CATALOGS CHANGEDPROPERTIES
    COLUMNPARTITIONSTORAGES COLUMNPERMISSIONS COLUMNS COLUMNSTORAGES CSDLMETADATA CULTURES
    DATACOVERAGEDEFINITIONS DATASOURCES DELTATABLEMETADATASTORAGES DEPENDENCIES
    DETAILROWSDEFINITIONS DICTIONARYSTORAGES EXCLUDEDARTIFACTS EXPRESSIONS
    EXTENDEDPROPERTIES FORMATSTRINGDEFINITIONS FUNCTIONS
    GENERALSEGMENTMAPSEGMENTMETADATASTORAGES GROUPBYCOLUMNS HIERARCHIES HIERARCHYSTORAGES
    KPIS LEVELS LINGUISTICMETADATA MEASURES MODEL OBJECTTRANSLATIONS PARQUETFILESTORAGES
    PARTITIONS PARTITIONSTORAGES PERSPECTIVECOLUMNS PERSPECTIVEHIERARCHIES
    PERSPECTIVEMEASURES PERSPECTIVES PERSPECTIVETABLES PROPERTIES QUERYGROUPS
    REFRESHPOLICIES RELATEDCOLUMNDETAILS RELATIONSHIPINDEXSTORAGES RELATIONSHIPS
    RELATIONSHIPSTORAGES ROLEMEMBERSHIPS ROLES SEGMENTMAPSTORAGES SEGMENTSTORAGES
    STORAGEFILES STORAGEFOLDERS STORAGETABLECOLUMNS STORAGETABLECOLUMNSEGMENTS
    STORAGETABLES TABLEPERMISSIONS TABLES TABLESTORAGES USERDEFINEDFUNCTIONS VARIATIONS
    VIEW.COLUMNS VIEW.MEASURES VIEW.RELATIONSHIPS VIEW.TABLES
"""


def _build() -> dict[str, FunctionInfo]:
    functions: dict[str, FunctionInfo] = {}
    for category, block in _TABLE.items():
        for line in block.strip().splitlines():
            name, lo, hi, returns = line.split()
            if name in functions:
                raise ValueError(f"catalog: {name} listed twice")
            if returns not in ("scalar", "table", "any"):
                raise ValueError(f"catalog: {name} has bad result kind {returns}")
            functions[name] = FunctionInfo(
                name, int(lo), None if hi == "*" else int(hi), returns, category
            )
    for suffix in _INFO.split():
        name = "INFO." + suffix
        functions[name] = FunctionInfo(name, 0, None, "table", "info")
    return functions


FUNCTIONS: dict[str, FunctionInfo] = _build()


def lookup(name: str) -> FunctionInfo | None:
    """The catalog entry for a function name (any case), or None."""
    return FUNCTIONS.get(name.upper())


def is_builtin(name: str) -> bool:
    return name.upper() in FUNCTIONS


# ---------------------------------------------------------------- engine support

# Engine handlers that reject some argument forms (with a compile error naming the form).
PARTIAL: dict[str, str] = {
    "SUBSTITUTE": "no instance-number argument",
    "FORMAT": "common format strings only (0, 0.00, #,##0, #,0, #,##0.00, 0%, 0.0%, $#,##0, \\$#,0.00, dates such "
              "as yyyy-mm-dd, mmm yyyy, Short Date); others are rejected",
    "NETWORKDAYS": "weekend code 1 only; no holidays table",
    "WEEKDAY": "return types 1, 2 and 3",
    "SUMMARIZECOLUMNS": "group-level filters inside ROLLUPADDISSUBTOTAL are rejected",
    "ROLLUPGROUP": "inside ROLLUPADDISSUBTOTAL (SUMMARIZECOLUMNS) and ROLLUP (SUMMARIZE)",
    "ADDMISSINGITEMS": "no filter tables; ROLLUPISSUBTOTAL without group-level filters",
    "COLUMNSTATISTICS": "Min/Max as text; the RowNumber rows give only the cardinality",
    "TOCSV": "rows in the order of their columns (Power BI: storage order)",
    "TOJSON": "rows in the order of their columns (Power BI: storage order)",
    "TREATAS": "text values match case-sensitively",
    "CONCATENATEX": "the delimiter must be a constant",
    "CALCULATETABLE": "DATEADD/SAMEPERIODLASTYEAR filters are rejected (use CALCULATE)",
}

NOTES: dict[str, str] = {
    "CALCULATE": "filter arguments evaluated in the outer context; Boolean filters replace, KEEPFILTERS intersects; "
                 "table filters filter the expanded table; mark-as-date-table rule",
    "ALLSELECTED": "restores the query's filter tables (slicers); no iterator-level shadow contexts",
    "SUMMARIZECOLUMNS": "group-by, filter tables (same-table filters merged: auto-exist), IGNORE, NONVISUAL, "
                        "ROLLUPADDISSUBTOTAL (with ROLLUPGROUP)",
    "VALUES": "adds the blank row when a relationship has unmatched keys",
    "RANKX": "SKIP/DENSE, ASC/DESC, BLANK ranks as 0, value not in the table ranks as if inserted",
    "DATEADD": "month-end dates bring the rest of the shifted month",
    "TODAY": "returns the model's as-of date (reproducible tests)",
    "NOW": "returns the model's as-of date at midnight",
    "XNPV": "d₁ is the earliest date of the table; rows with a BLANK value or date are skipped; no rows → BLANK",
    "ACCRINT": "par · rate · YEARFRAC(issue or first_interest, settlement, basis)",
    "YEARFRAC": "bases 0–4 (0: US 30/360 with the end-of-February rule)",
}


def support(name: str, handlers: set[str]) -> str:
    """'supported', 'partial' or 'not yet', given the engine's handler names."""
    if name not in handlers:
        return "not yet"
    return "partial" if name in PARTIAL else "supported"


def render_markdown(handlers: set[str], oracle: dict[str, tuple[str, int, int]] | None = None) -> str:
    """docs/dax-support.md: every catalog function, its engine status, and its oracle result."""
    lines = [
        "# DAX support of the pbi-forge engine",
        "",
        "Generated by `python -m tests.engine.oracle --write-docs` from `generator/dax/catalog.py`,",
        "the engine's function handlers and the Power BI Desktop oracle in `../shared/dax-corpus/oracle/`.",
        "Do not edit by hand.",
        "",
        "- **supported**: the engine implements the function; where the oracle has probes for it, all pass.",
        "- **partial**: supported, but some argument forms are rejected with a compile error (listed).",
        "- **not yet**: using it is a compile error (\"not supported by the pbi-forge DAX engine\") naming",
        "  the function, the measure and its YAML position. The engine never returns a guessed value.",
        "",
    ]
    if oracle:
        probes = sum(t for _, _, t in oracle.values())
        passed = sum(p for s, p, _ in oracle.values() if s == "supported")
        covered = [f for f in oracle if f in handlers]
        full = [f for f in covered if oracle[f][0] == "supported"]
        rest = sorted(set(covered) - set(full))
        lines += [
            f"Oracle: {len(oracle)} functions, {probes} probes. The engine has handlers for {len(covered)} of these "
            f"functions and passes every probe of {len(full)} of them ({passed} probes)"
            + (f"; {', '.join(rest)} reject(s) the unsupported argument forms with a compile error" if rest else "")
            + f". The other {len(oracle) - len(covered)} functions are rejected with an error, as the rule "
              "requires; no probe returns a wrong value.",
            "",
        ]
    counts = {s: 0 for s in ("supported", "partial", "not yet")}
    for name in FUNCTIONS:
        counts[support(name, handlers)] += 1
    lines += [f"Totals: {counts['supported']} supported, {counts['partial']} partial, {counts['not yet']} not yet.", ""]
    by_cat: dict[str, list[str]] = {}
    for name, info in FUNCTIONS.items():
        by_cat.setdefault(info.category, []).append(name)
    for cat in sorted(by_cat):
        lines += [f"## {cat[0].upper()}{cat[1:]}", "", "| function | status | oracle | notes |", "|---|---|---|---|"]
        for name in sorted(by_cat[cat]):
            status = support(name, handlers)
            probe = ""
            if oracle and name in oracle:
                s, p, t = oracle[name]
                probe = f"{p}/{t} pass" if name in handlers else f"{t} probe(s): rejected"
            note = PARTIAL.get(name, NOTES.get(name, ""))
            lines.append(f"| {name} | {status} | {probe} | {note} |")
        lines.append("")
    return "\n".join(lines)
