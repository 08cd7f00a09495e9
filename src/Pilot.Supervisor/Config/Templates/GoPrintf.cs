using System.Collections;
using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Config.Templates;

/// <summary>Go <c>fmt.Sprintf</c>/<c>fmt.Sprint</c> for the value kinds a config template produces.</summary>
internal static class GoPrintf
{
    /// <summary><c>fmt.Sprint</c>: a space between operands when neither is a string.</summary>
    public static string Sprint(IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < args.Count; i++)
        {
            if (i > 0 && args[i] is not string && args[i - 1] is not string) sb.Append(' ');
            sb.Append(GoValues.Format(args[i]));
        }
        return sb.ToString();
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => @"\\",
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                '\a' => @"\a",
                '\b' => @"\b",
                '\f' => @"\f",
                '\v' => @"\v",
                _ when c < ' ' || c == '\x7f' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    public static string Sprintf(string format, IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        var argIndex = 0;
        var i = 0;
        while (i < format.Length)
        {
            var c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                i++;
                continue;
            }
            i++;
            if (i >= format.Length)
            {
                sb.Append("%!(NOVERB)");
                break;
            }
            bool minus = false, plus = false, zero = false, space = false, sharp = false;
            for (; i < format.Length; i++)
            {
                switch (format[i])
                {
                    case '-': minus = true; continue;
                    case '+': plus = true; continue;
                    case '0': zero = !minus; continue;
                    case ' ': space = true; continue;
                    case '#': sharp = true; continue;
                }
                break;
            }
            int? width = null, precision = null;
            var start = i;
            while (i < format.Length && char.IsAsciiDigit(format[i])) i++;
            if (i > start) width = int.Parse(format[start..i], CultureInfo.InvariantCulture);
            if (i < format.Length && format[i] == '.')
            {
                i++;
                start = i;
                while (i < format.Length && char.IsAsciiDigit(format[i])) i++;
                precision = i > start ? int.Parse(format[start..i], CultureInfo.InvariantCulture) : 0;
            }
            if (i >= format.Length)
            {
                sb.Append("%!(NOVERB)");
                break;
            }
            var verb = format[i++];
            if (verb == '%')
            {
                sb.Append('%');
                continue;
            }
            if (argIndex >= args.Count)
            {
                sb.Append("%!").Append(verb).Append("(MISSING)");
                continue;
            }
            var arg = args[argIndex++];
            var text = FormatOne(verb, arg, precision, plus, space, sharp);
            if (width is { } w && text.Length < w)
            {
                var pad = w - text.Length;
                if (minus) text += new string(' ', pad);
                else if (zero && verb is not ('s' or 'q' or 'v' or 't') || zero && arg is long or double)
                {
                    var signed = text.Length > 0 && text[0] is '-' or '+';
                    text = signed ? text[0] + new string('0', pad) + text[1..] : new string('0', pad) + text;
                }
                else text = new string(' ', pad) + text;
            }
            sb.Append(text);
        }
        if (argIndex < args.Count)
        {
            sb.Append("%!(EXTRA ");
            sb.Append(string.Join(", ", args.Skip(argIndex).Select(a => GoValues.TypeName(a) + "=" + GoValues.Format(a))));
            sb.Append(')');
        }
        return sb.ToString();
    }

    private static string Bad(char verb, object? arg) =>
        arg is null ? $"%!{verb}(<nil>)" : $"%!{verb}({GoValues.TypeName(arg)}={GoValues.Format(arg)})";

    private static string Signed(string digits, bool negative, bool plus, bool space) =>
        (negative ? "-" : plus ? "+" : space ? " " : "") + digits;

    private static string FormatOne(char verb, object? arg, int? precision, bool plus, bool space, bool sharp)
    {
        switch (verb)
        {
            case 'v':
                if (arg is string sv && sharp) return Quote(sv);
                return arg is double dv ? GoFormattingFloat(dv, 'g', precision) : GoValues.Format(arg);
            case 's':
                return arg switch
                {
                    string s => precision is { } p && p < s.Length ? s[..p] : s,
                    List<string> l => "[" + string.Join(' ', l) + "]",
                    _ => Bad(verb, arg),
                };
            case 'q':
                return arg switch
                {
                    string s => Quote(s),
                    long l => "'" + char.ConvertFromUtf32((int)l) + "'",
                    _ => Bad(verb, arg),
                };
            case 'd':
                return arg is long d ? Signed(Math.Abs(d).ToString(CultureInfo.InvariantCulture), d < 0, plus, space) : Bad(verb, arg);
            case 'b':
                return arg is long b ? Signed(Convert.ToString(Math.Abs(b), 2), b < 0, plus, space) : Bad(verb, arg);
            case 'o':
                return arg is long o ? Signed((sharp ? "0" : "") + Convert.ToString(Math.Abs(o), 8), o < 0, plus, space) : Bad(verb, arg);
            case 'x' or 'X':
            {
                string hex;
                switch (arg)
                {
                    case long x:
                        hex = Signed((sharp ? "0x" : "") + Math.Abs(x).ToString("x", CultureInfo.InvariantCulture), x < 0, plus, space);
                        break;
                    case string s:
                        hex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(s));
                        break;
                    default:
                        return Bad(verb, arg);
                }
                return verb == 'X' ? hex.ToUpperInvariant() : hex;
            }
            case 'c':
                return arg is long ch ? char.ConvertFromUtf32((int)ch) : Bad(verb, arg);
            case 'U':
                return arg is long u ? "U+" + u.ToString("X4", CultureInfo.InvariantCulture) : Bad(verb, arg);
            case 't':
                return arg is bool t ? (t ? "true" : "false") : Bad(verb, arg);
            case 'f' or 'F' or 'e' or 'E' or 'g' or 'G':
                if (arg is not double f) return Bad(verb, arg);
                var formatted = GoFormattingFloat(f, char.ToLowerInvariant(verb), precision);
                if (plus && f >= 0) formatted = "+" + formatted;
                else if (space && f >= 0) formatted = " " + formatted;
                return char.IsUpper(verb) ? formatted.ToUpperInvariant() : formatted;
            default:
                return Bad(verb, arg);
        }
    }

    private static string GoFormattingFloat(double value, char verb, int? precision)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "+Inf" : "-Inf";
        switch (verb)
        {
            case 'f':
                return value.ToString("F" + (precision ?? 6).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            case 'e':
            {
                var s = value.ToString((precision ?? 6) == 0 ? "0e+00" : "0." + new string('0', precision ?? 6) + "e+00", CultureInfo.InvariantCulture);
                return s;
            }
            default:
                if (precision is null) return Json5.GoFormatting.FormatFloat(value);
                return value.ToString("G" + precision.Value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
                    .Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
        }
    }

    internal static bool IsList(object? value) => value is IList;
}
