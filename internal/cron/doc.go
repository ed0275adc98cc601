// Package cron parses five-field cron specifications and computes when they
// next fire.
//
// # Fields
//
// A spec has five fields separated by runs of spaces or tabs; leading and
// trailing white space is ignored:
//
//	minute        0-59
//	hour          0-23
//	day-of-month  1-31
//	month         1-12 or jan-dec
//	day-of-week   0-7 or sun-sat (0 and 7 are both Sunday)
//
// Each field is a comma-separated list of items, and each item is one of:
//
//	item     meaning
//	n        one value: a number, or for month and day-of-week a
//	         three-letter name in any case ("Jan", "MON")
//	*        every value of the field
//	a-b      a through b inclusive; a must not be after b
//	*/s      every s-th value, starting at the field's minimum
//	a-b/s    every s-th value from a through b
//	a/s      every s-th value from a through the field's maximum
//
// Steps run from 1 to the number of values in the field (60 for minutes, 24
// for hours, 31, 12, and 7 for day-of-week). In day-of-week, "*" and "a/s"
// end at Saturday (6); 7 is accepted only when written explicitly, as a
// value or as the end of a range, so "5-7" is Friday through Sunday and
// "1/2" is Monday, Wednesday and Friday.
//
// A day matches following the Vixie cron rule: when both day-of-month and
// day-of-week are restricted, that is neither field starts with '*', a day
// matches if either field matches; otherwise it must match both. So
// "0 0 13 * fri" fires on every 13th and every Friday, while
// "0 0 */2 * fri" fires on Fridays with an odd day of month.
//
// The macros @yearly (or @annually), @monthly, @weekly, @daily (or
// @midnight) and @hourly stand for "0 0 1 1 *", "0 0 1 * *", "0 0 * * 0",
// "0 0 * * *" and "0 * * * *". Macro names are case-insensitive.
//
// # Errors
//
// Parse rejects every malformed spec with a *ParseError naming the field and
// the offending text, and rejects specs that can never fire, such as
// "0 0 30 2 *". Nothing a spec contains makes Parse panic.
//
// # Time zones
//
// A Schedule describes wall-clock times; Next interprets them in the
// Location of the time it is given. When clocks spring forward, wall times
// in the gap do not exist and are skipped, not moved; this holds for every
// spec.
//
// When clocks fall back, the wall times of the repeated period occur twice.
// Following Vixie cron, what fires then depends on the hour field:
//
//   - If the hour field is unrestricted, that is it starts with '*' (as "*",
//     "*/2" and "*/2,1" do), the schedule fires at every occurrence of a
//     matching wall time, in both passes. In America/New_York, where
//     01:00-01:59 repeats on 1 November 2026, "*/15 * * * *" fires at 01:45
//     EDT, then 01:00, 01:15, 01:30 and 01:45 EST, then 02:00 EST, and
//     "0 * * * *" fires at 01:00 EDT and again at 01:00 EST. Only the hours
//     the field selects fire twice: "0 */2 * * *" selects no hour 1 and
//     fires at 00:00 EDT, then 02:00 EST.
//   - If the hour field is restricted, that is it does not start with '*'
//     (as "1", "1-3" and "1,*/2" do), a matching wall time that occurs
//     twice fires only at its first occurrence. "30 1 * * *" fires once
//     that night, at 01:30 EDT.
//
// The rule looks at the text, not at the hours selected: "0-23" is
// restricted although it selects every hour. Of the macros, @hourly is
// unrestricted and the others are restricted.
//
// Next looks at most five years ahead and returns the zero Time when the
// schedule does not fire within that time. Only unusual schedules reach that
// limit, such as "0 0 29 2 sun" (29 February falls on a Sunday once in 28
// years) or "0 0 29 2 *" from March 2096 (2100 is not a leap year).
//
// A Schedule is immutable after Parse and safe for concurrent use.
package cron
