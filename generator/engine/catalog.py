"""The DAX function catalog: every DAX function name, and what the engine does with it.

A function is *supported* when the compiler has a handler for it (`fn_<NAME>`), *partial*
when the handler rejects some argument forms (listed in `PARTIAL`, always a compile error,
never a guess), and *not yet* otherwise: using it is a compile error naming the function,
the measure and its YAML position. `docs/dax-support.md` is generated from this module.
"""
from __future__ import annotations

CATEGORIES: dict[str, str] = {}


def _cat(category: str, names: str) -> None:
    for n in names.split():
        CATEGORIES[n] = category


_cat("aggregation", """APPROXIMATEDISTINCTCOUNT AVERAGE AVERAGEA AVERAGEX COUNT COUNTA COUNTAX COUNTBLANK COUNTROWS
COUNTX DISTINCTCOUNT DISTINCTCOUNTNOBLANK MAX MAXA MAXX MIN MINA MINX PRODUCT PRODUCTX SUM SUMX""")
_cat("statistical", """BETA.DIST BETA.INV CHISQ.DIST CHISQ.DIST.RT CHISQ.INV CHISQ.INV.RT COMBIN COMBINA
CONFIDENCE.NORM CONFIDENCE.T EXPON.DIST GEOMEAN GEOMEANX LINEST LINESTX MEDIAN MEDIANX NORM.DIST NORM.INV
NORM.S.DIST NORM.S.INV PERCENTILE.EXC PERCENTILE.INC PERCENTILEX.EXC PERCENTILEX.INC PERMUT POISSON.DIST
RANK.EQ RANKX SAMPLE STDEV.P STDEV.S STDEVX.P STDEVX.S T.DIST T.DIST.2T T.DIST.RT T.INV T.INV.2T VAR.P VAR.S
VARX.P VARX.S""")
_cat("date and time", """CALENDAR CALENDARAUTO DATE DATEDIFF DATEVALUE DAY EDATE EOMONTH HOUR MINUTE MONTH
NETWORKDAYS NOW QUARTER SECOND TIME TIMEVALUE TODAY UTCNOW UTCTODAY WEEKDAY WEEKNUM YEAR YEARFRAC""")
_cat("time intelligence", """CLOSINGBALANCEMONTH CLOSINGBALANCEQUARTER CLOSINGBALANCEWEEK CLOSINGBALANCEYEAR DATEADD
DATESBETWEEN DATESINPERIOD DATESMTD DATESQTD DATESWTD DATESYTD ENDOFMONTH ENDOFQUARTER ENDOFWEEK ENDOFYEAR
FIRSTDATE FIRSTNONBLANK FIRSTNONBLANKVALUE LASTDATE LASTNONBLANK LASTNONBLANKVALUE NEXTDAY NEXTMONTH
NEXTQUARTER NEXTWEEK NEXTYEAR OPENINGBALANCEMONTH OPENINGBALANCEQUARTER OPENINGBALANCEWEEK OPENINGBALANCEYEAR
PARALLELPERIOD PREVIOUSDAY PREVIOUSMONTH PREVIOUSQUARTER PREVIOUSWEEK PREVIOUSYEAR SAMEPERIODLASTYEAR
STARTOFMONTH STARTOFQUARTER STARTOFWEEK STARTOFYEAR TOTALMTD TOTALQTD TOTALWTD TOTALYTD""")
_cat("filter", """ALL ALLCROSSFILTERED ALLEXCEPT ALLNOBLANKROW ALLSELECTED CALCULATE CALCULATETABLE EARLIER FILTERS
EARLIEST FILTER INDEX KEEPFILTERS LOOKUPVALUE LOOKUP LOOKUPWITHTOTALS MATCHBY OFFSET ORDERBY PARTITIONBY
RANK REMOVEFILTERS ROWNUMBER SELECTEDVALUE WINDOW""")
_cat("information", """COLUMNSTATISTICS CONTAINS CONTAINSROW CONTAINSSTRING CONTAINSSTRINGEXACT CUSTOMDATA
HASONEFILTER HASONEVALUE ISAFTER ISBLANK ISBOOLEAN ISCROSSFILTERED ISCURRENCY ISDATETIME ISDECIMAL ISDOUBLE
ISEMPTY ISERROR ISEVEN ISFILTERED ISINSCOPE ISINT64 ISINTEGER ISLOGICAL ISNONTEXT ISNUMBER ISNUMERIC ISODD
ISONORAFTER ISSELECTEDMEASURE ISSTRING ISSUBTOTAL ISTEXT NONVISUAL SELECTEDMEASURE
SELECTEDMEASUREFORMATSTRING SELECTEDMEASURENAME USERCULTURE USERNAME USEROBJECTID USERPRINCIPALNAME""")
_cat("logical", "AND BITAND BITLSHIFT BITOR BITRSHIFT BITXOR COALESCE FALSE IF IF.EAGER IFERROR NOT OR SWITCH TRUE")
_cat("math and trig", """ABS ACOS ACOSH ACOT ACOTH ASIN ASINH ATAN ATANH CEILING CONVERT COS COSH COT COTH
CURRENCY DEGREES DIVIDE EVEN EXP FACT FLOOR GCD INT ISO.CEILING LCM LN LOG LOG10 MOD MROUND ODD PI POWER
QUOTIENT RADIANS RAND RANDBETWEEN ROUND ROUNDDOWN ROUNDUP SIGN SIN SINH SQRT SQRTPI TAN TANH TRUNC""")
_cat("text", """COMBINEVALUES CONCATENATE CONCATENATEX EXACT FIND FIXED FORMAT LEFT LEN LOWER MID REPLACE
REPT RIGHT SEARCH SUBSTITUTE TRIM UNICHAR UNICODE UPPER VALUE""")
_cat("table manipulation", """ADDCOLUMNS ADDMISSINGITEMS CROSSJOIN CURRENTGROUP DATATABLE DETAILROWS DISTINCT
EXCEPT GENERATE GENERATEALL GENERATESERIES GROUPBY IGNORE INTERSECT NATURALINNERJOIN NATURALLEFTOUTERJOIN
ROLLUP ROLLUPADDISSUBTOTAL ROLLUPGROUP ROLLUPISSUBTOTAL ROW SELECTCOLUMNS SUBSTITUTEWITHINDEX SUMMARIZE
SUMMARIZECOLUMNS TABLEOF TOPN TOPNSKIP TREATAS UNION VALUES""")
_cat("relationship", "CROSSFILTER RELATED RELATEDTABLE USERELATIONSHIP")
_cat("parent-child", "PATH PATHCONTAINS PATHITEM PATHITEMREVERSE PATHLENGTH")
_cat("financial", """ACCRINT ACCRINTM AMORDEGRC AMORLINC COUPDAYBS COUPDAYS COUPDAYSNC COUPNCD COUPNUM COUPPCD
CUMIPMT CUMPRINC DB DDB DISC DOLLARDE DOLLARFR DURATION EFFECT FV INTRATE IPMT ISPMT MDURATION NOMINAL NPER
ODDFPRICE ODDFYIELD ODDLPRICE ODDLYIELD PDURATION PMT PPMT PRICE PRICEDISC PRICEMAT PV RATE RECEIVED RRI SLN
SYD TBILLEQ TBILLPRICE TBILLYIELD VDB XIRR XNPV YIELD YIELDDISC YIELDMAT""")
_cat("other", """BLANK ERROR EVALUATEANDLOG NAMEOF TOCSV TOJSON EXTERNALMEASURE SAMPLEAXISWITHLOCALMINMAX
SAMPLECARTESIANPOINTSBYCOVER NATURALJOINUSAGE""")
_cat("visual calculation", """COLLAPSE COLLAPSEALL EXPAND EXPANDALL FIRST LAST MOVINGAVERAGE NEXT PREVIOUS RANGE
RUNNINGSUM ISATLEVEL""")

# Handlers that reject some argument forms (with a compile error naming the form).
PARTIAL: dict[str, str] = {
    "SUMMARIZE": "ROLLUP/ROLLUPGROUP are rejected",
    "SUBSTITUTE": "no instance-number argument",
    "FORMAT": "common format strings only (0, 0.00, #,##0, #,##0.00, 0%, 0.0%, $#,##0, dates such as yyyy-mm-dd, mmm yyyy); others are rejected",
    "YEARFRAC": "basis 0 and 3 only",
    "NETWORKDAYS": "weekend code 1 only; no holidays table",
    "WEEKDAY": "return types 1, 2 and 3",
    "SUMMARIZECOLUMNS": "group-level filters inside ROLLUPADDISSUBTOTAL are rejected",
    "ROLLUPGROUP": "only inside ROLLUPADDISSUBTOTAL in SUMMARIZECOLUMNS (columns rolled up together, "
                   "as a table visual's grand total); elsewhere (ROLLUP, SUMMARIZE) it is rejected",
    "TREATAS": "text values match case-sensitively",
    "CONCATENATEX": "the delimiter must be a constant",
    "CALCULATETABLE": "DATEADD/SAMEPERIODLASTYEAR filters are rejected (use CALCULATE)",
}


def is_dax_function(name: str) -> bool:
    return name.upper() in CATEGORIES or name.upper().startswith("INFO.")


def handler_names() -> set[str]:
    from generator.engine.query import Compiler

    return {n[3:].replace("_", ".") for n in dir(Compiler) if n.startswith("fn_")}


def support(name: str, handlers: set[str] | None = None) -> str:
    handlers = handler_names() if handlers is None else handlers
    if name not in handlers:
        return "not yet"
    return "partial" if name in PARTIAL else "supported"


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
}


def render_markdown(oracle: dict[str, tuple[str, int, int]] | None = None) -> str:
    """docs/dax-support.md: every DAX function, its status, and its oracle result."""
    handlers = handler_names()
    lines = [
        "# DAX support of the pbi-forge engine",
        "",
        "Generated by `python -m tests.engine.oracle --write-docs` from `generator/engine/catalog.py`",
        "and the Power BI Desktop oracle in `../shared/dax-corpus/oracle/`. Do not edit by hand.",
        "",
        "- **supported**: the engine implements the function; where the oracle has probes for it, all pass.",
        "- **partial**: supported, but some argument forms are rejected with a compile error (listed).",
        "- **not yet**: using it is a compile error naming the function, the measure and its YAML",
        "  position. The engine never returns a guessed value.",
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
    for name in CATEGORIES:
        counts[support(name, handlers)] += 1
    lines += [f"Totals: {counts['supported']} supported, {counts['partial']} partial, {counts['not yet']} not yet.", ""]
    by_cat: dict[str, list[str]] = {}
    for name, cat in CATEGORIES.items():
        by_cat.setdefault(cat, []).append(name)
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
