package org.accord.app.rhythm

import org.accord.core.Frequency
import org.accord.core.RecurrenceRule
import org.accord.core.WeekOfMonth
import org.accord.core.Weekday
import java.time.LocalDate

/** How often a rhythm repeats, as the screens offer it. */
enum class Every { DAY, WEEK, MONTH }

/**
 * A rhythm as a partner writes it on a screen: how often, on which day ("Friday" for a week;
 * "15" or "first Saturday" for a month; nothing for a day) and at what time (`HH:MM`).
 */
data class Rhythm(val every: Every, val on: String = "", val time: String = "19:00") {
    /**
     * The core's rule for this rhythm in [zone] from [start], or [Refused] with the message to
     * show. The time itself is checked by the core (its message is shown as it is).
     */
    fun toRule(zone: String, start: LocalDate): RecurrenceRule {
        val words = on.trim().lowercase().split(Regex("\\s+")).filter { it.isNotEmpty() }
        val frequency = when (every) {
            Every.DAY -> Frequency.Daily(1u)
            Every.WEEK -> Frequency.Weekly(1u, listOf(weekday(words.singleOrNull()) ?: throw Refused(NOT_A_WEEKDAY)))
            Every.MONTH -> monthly(words)
        }
        return RecurrenceRule(frequency, time.trim(), zone, start.toString(), null)
    }

    private fun monthly(words: List<String>): Frequency {
        words.singleOrNull()?.toUIntOrNull()?.let { day ->
            if (day in 1u..31u) return Frequency.MonthlyOnDay(1u, day)
        }
        if (words.size == 2) {
            val week = WEEKS[words[0]]
            val day = weekday(words[1])
            if (week != null && day != null) return Frequency.MonthlyOnWeekday(1u, week, day)
        }
        throw Refused(NOT_A_DAY_OF_MONTH)
    }

    /** A rhythm the screen refused before asking the core; [message] is for the screen. */
    class Refused(message: String) : IllegalArgumentException(message)

    companion object {
        const val NOT_A_WEEKDAY = "Name a weekday, for example Friday."
        const val NOT_A_DAY_OF_MONTH = "Name a day of the month (1 to 31) or a weekday, for example \"first Saturday\"."

        private val WEEKS = mapOf(
            "first" to WeekOfMonth.FIRST, "1st" to WeekOfMonth.FIRST,
            "second" to WeekOfMonth.SECOND, "2nd" to WeekOfMonth.SECOND,
            "third" to WeekOfMonth.THIRD, "3rd" to WeekOfMonth.THIRD,
            "fourth" to WeekOfMonth.FOURTH, "4th" to WeekOfMonth.FOURTH,
            "last" to WeekOfMonth.LAST,
        )

        /** A weekday from its English name or a prefix of at least two letters ("fr"). */
        private fun weekday(word: String?): Weekday? {
            val w = word?.trim()?.uppercase() ?: return null
            if (w.length < 2) return null
            return Weekday.entries.firstOrNull { it.name.startsWith(w) }
        }

        /** A rule in words ("Every week on Friday at 19:00, Europe/Berlin"). */
        fun describe(rule: RecurrenceRule): String {
            fun day(d: Weekday) = d.name.lowercase().replaceFirstChar(Char::uppercaseChar)
            fun times(n: UInt, one: String, many: String) = if (n == 1u) "Every $one" else "Every $n $many"
            val every = when (val f = rule.frequency) {
                is Frequency.Daily -> times(f.interval, "day", "days")
                is Frequency.Weekly -> times(f.interval, "week", "weeks") + " on " + f.weekdays.joinToString(", ") { day(it) }
                is Frequency.MonthlyOnDay -> times(f.interval, "month", "months") + " on day ${f.day}"
                is Frequency.MonthlyOnWeekday ->
                    times(f.interval, "month", "months") + " on the ${f.week.name.lowercase()} ${day(f.weekday)}"
            }
            return "$every at ${rule.time}, ${rule.timeZone}"
        }
    }
}
