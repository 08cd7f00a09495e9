using System.Globalization;

namespace Pilot.Supervisor.Config.Decoding;

/// <summary>Go's <c>time.ParseDuration</c> and v3's <c>config/timing</c> rules, with Go 1.9's error wording.</summary>
public static class GoDuration
{
    private static readonly Dictionary<string, long> Units = new(StringComparer.Ordinal)
    {
        ["ns"] = 1,
        ["us"] = 1_000,
        ["µs"] = 1_000,
        ["μs"] = 1_000,
        ["ms"] = 1_000_000,
        ["s"] = 1_000_000_000,
        ["m"] = 60_000_000_000,
        ["h"] = 3_600_000_000_000,
    };

    /// <summary>Go <c>time.ParseDuration</c>: a unit is required (except for <c>"0"</c>).</summary>
    public static bool TryParseGo(string text, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        error = "";
        var invalid = "time: invalid duration " + text;
        var s = text;
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s == "0") return true;
        if (s.Length == 0)
        {
            error = invalid;
            return false;
        }
        decimal total = 0;
        while (s.Length > 0)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = invalid;
                return false;
            }
            var i = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            var intPart = s[..i];
            s = s[i..];
            var fracPart = "";
            if (s.Length > 0 && s[0] == '.')
            {
                s = s[1..];
                i = 0;
                while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                fracPart = s[..i];
                s = s[i..];
            }
            if (intPart.Length == 0 && fracPart.Length == 0)
            {
                error = invalid;
                return false;
            }
            i = 0;
            while (i < s.Length && !(s[i] == '.' || char.IsAsciiDigit(s[i]))) i++;
            if (i == 0)
            {
                error = "time: missing unit in duration " + text;
                return false;
            }
            var unitName = s[..i];
            s = s[i..];
            if (!Units.TryGetValue(unitName, out var unit))
            {
                error = "time: unknown unit " + unitName + " in duration " + text;
                return false;
            }
            if (intPart.Length > 19 || fracPart.Length > 28)
            {
                error = invalid;
                return false;
            }
            var number = decimal.Parse((intPart.Length == 0 ? "0" : intPart) + (fracPart.Length > 0 ? "." + fracPart : ""), CultureInfo.InvariantCulture);
            total += number * unit;
            if (total > long.MaxValue)
            {
                error = invalid;
                return false;
            }
        }
        var nanoseconds = (long)decimal.Truncate(total);
        duration = TimeSpan.FromTicks((negative ? -nanoseconds : nanoseconds) / 100);
        return true;
    }

    /// <summary>v3 <c>timing.ParseDuration</c> on a string: an integer (<c>strconv.Atoi</c>) is seconds, else a Go duration.</summary>
    public static bool TryParseV3(string text, out TimeSpan duration, out string error)
    {
        if (GoStrconv.TryAtoi(text, out var seconds))
        {
            return TryParseGo(seconds.ToString(CultureInfo.InvariantCulture) + "s", out duration, out error);
        }
        return TryParseGo(text, out duration, out error);
    }

    /// <summary>Formats like Go's <c>Duration.String()</c> for the common cases (<c>1ms</c>, <c>1.5s</c>, <c>1h30m0s</c>).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero) return "0s";
        var ticks = duration.Ticks;
        var sign = ticks < 0 ? "-" : "";
        ticks = Math.Abs(ticks);
        if (ticks < TimeSpan.TicksPerSecond)
        {
            var ns = ticks * 100;
            if (ns < 1_000) return sign + ns.ToString(CultureInfo.InvariantCulture) + "ns";
            if (ns < 1_000_000) return sign + (ns / 1_000m).ToString(CultureInfo.InvariantCulture) + "µs";
            return sign + (ns / 1_000_000m).ToString(CultureInfo.InvariantCulture) + "ms";
        }
        var hours = ticks / TimeSpan.TicksPerHour;
        var minutes = ticks % TimeSpan.TicksPerHour / TimeSpan.TicksPerMinute;
        var seconds = ticks % TimeSpan.TicksPerMinute / (decimal)TimeSpan.TicksPerSecond;
        var secText = seconds.ToString(CultureInfo.InvariantCulture) + "s";
        if (hours > 0) return $"{sign}{hours}h{minutes}m{secText}";
        if (minutes > 0) return $"{sign}{minutes}m{secText}";
        return sign + secText;
    }
}

/// <summary>Go <c>strconv</c> parsing with its error wording.</summary>
public static class GoStrconv
{
    /// <summary><c>strconv.Atoi</c>: optional sign, decimal digits only, int64 range.</summary>
    public static bool TryAtoi(string s, out long value)
    {
        value = 0;
        var body = s.Length > 0 && s[0] is '+' or '-' ? s[1..] : s;
        if (body.Length == 0 || !body.All(char.IsAsciiDigit)) return false;
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary><c>strconv.ParseInt(s, 0, 64)</c> as Go 1.9: sign, then <c>0x</c> hex, leading-<c>0</c> octal or decimal.</summary>
    public static bool TryParseInt(string s, out long value, out string error)
    {
        value = 0;
        error = $"strconv.ParseInt: parsing {Templates.GoPrintf.Quote(s)}: invalid syntax";
        var negative = false;
        var body = s;
        if (body.Length > 0 && body[0] is '+' or '-')
        {
            negative = body[0] == '-';
            body = body[1..];
        }
        var radix = 10;
        if (body.Length > 1 && body[0] == '0' && body[1] is 'x' or 'X')
        {
            radix = 16;
            body = body[2..];
        }
        else if (body.Length > 1 && body[0] == '0')
        {
            radix = 8;
            body = body[1..];
        }
        if (body.Length == 0) return false;
        System.Numerics.BigInteger magnitude = 0;
        foreach (var c in body)
        {
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => 99,
            };
            if (digit >= radix) return false;
            magnitude = (magnitude * radix) + digit;
        }
        var signed = negative ? -magnitude : magnitude;
        if (signed > long.MaxValue || signed < long.MinValue)
        {
            error = $"strconv.ParseInt: parsing {Templates.GoPrintf.Quote(s)}: value out of range";
            return false;
        }
        value = (long)signed;
        return true;
    }

    /// <summary><c>strconv.ParseBool</c>.</summary>
    public static bool TryParseBool(string s, out bool value, out string error)
    {
        error = "";
        switch (s)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                value = false;
                return true;
            default:
                value = false;
                error = $"strconv.ParseBool: parsing {Templates.GoPrintf.Quote(s)}: invalid syntax";
                return false;
        }
    }
}
