import Foundation

/// How often a rhythm repeats, as the screens offer it.
public enum Every: String, CaseIterable, Sendable {
    case day, week, month
}

/// A rhythm as a partner writes it: how often, on which day ("Friday" for a week; "15" or
/// "first Saturday" for a month; nothing for a day) and at what time (`HH:MM`).
public struct Rhythm: Equatable, Sendable {
    public var every: Every
    public var on: String
    public var time: String

    /// A rhythm; the time defaults to 19:00.
    public init(_ every: Every, on: String = "", time: String = "19:00") {
        self.every = every
        self.on = on
        self.time = time
    }

    public static let notAWeekday = "Name a weekday, for example Friday."
    public static let notADayOfMonth = "Name a day of the month (1 to 31) or a weekday, for example \"first Saturday\"."

    /// The core's rule for this rhythm in `zone` from `start` (`YYYY-MM-DD`), or an
    /// ``AccordKitError`` with the message to show; the time itself is checked by the core.
    public func rule(zone: String, start: String) throws -> RecurrenceRule {
        let words = on.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let frequency: Frequency
        switch every {
        case .day:
            frequency = .daily(interval: 1)
        case .week:
            guard words.count == 1, let day = Rhythm.weekday(words[0]) else { throw AccordKitError(Rhythm.notAWeekday) }
            frequency = .weekly(interval: 1, weekdays: [day])
        case .month:
            if words.count == 1, let day = UInt32(words[0]), (1...31).contains(day) {
                frequency = .monthlyOnDay(interval: 1, day: day)
            } else if words.count == 2, let week = Rhythm.weeks[words[0]], let day = Rhythm.weekday(words[1]) {
                frequency = .monthlyOnWeekday(interval: 1, week: week, weekday: day)
            } else {
                throw AccordKitError(Rhythm.notADayOfMonth)
            }
        }
        return RecurrenceRule(
            frequency: frequency,
            time: time.trimmingCharacters(in: .whitespaces),
            timeZone: zone,
            start: start,
            until: nil
        )
    }

    private static let weeks: [String: WeekOfMonth] = [
        "first": .first, "1st": .first, "second": .second, "2nd": .second, "third": .third,
        "3rd": .third, "fourth": .fourth, "4th": .fourth, "last": .last,
    ]
    private static let weekdays: [(String, Weekday)] = [
        ("monday", .monday), ("tuesday", .tuesday), ("wednesday", .wednesday), ("thursday", .thursday),
        ("friday", .friday), ("saturday", .saturday), ("sunday", .sunday),
    ]

    /// A weekday from its English name or a prefix of at least two letters ("fr").
    private static func weekday(_ word: String) -> Weekday? {
        guard word.count >= 2 else { return nil }
        return weekdays.first { $0.0.hasPrefix(word) }?.1
    }

    /// A rule in words ("Every week on Friday at 19:00, Europe/Berlin").
    public static func describe(_ rule: RecurrenceRule) -> String {
        func name(_ d: Weekday) -> String { weekdays.first { $0.1 == d }.map { $0.0.prefix(1).uppercased() + $0.0.dropFirst() } ?? "" }
        func times(_ n: UInt32, _ one: String, _ many: String) -> String { n == 1 ? "Every \(one)" : "Every \(n) \(many)" }
        let every: String
        switch rule.frequency {
        case let .daily(interval):
            every = times(interval, "day", "days")
        case let .weekly(interval, days):
            every = times(interval, "week", "weeks") + " on " + days.map(name).joined(separator: ", ")
        case let .monthlyOnDay(interval, day):
            every = times(interval, "month", "months") + " on day \(day)"
        case let .monthlyOnWeekday(interval, week, day):
            let which = weeks.first { $0.value == week && $0.key.count > 3 }?.key ?? "\(week)"
            every = times(interval, "month", "months") + " on the \(which) \(name(day))"
        }
        return "\(every) at \(rule.time), \(rule.timeZone)"
    }
}
