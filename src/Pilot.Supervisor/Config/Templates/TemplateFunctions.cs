using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Pilot.Supervisor.Config.Templates;

/// <summary>An error returned by a template function; the executor prefixes it with the position.</summary>
internal sealed class TemplateFunctionException(string message) : Exception(message);

/// <summary>v3's template functions (<c>default env split join replaceAll regexReplaceAll loop</c>) and Go's built-ins.</summary>
internal static class TemplateFunctions
{
    private static TemplateFunctionException CallError(string name, string message) => new($"error calling {name}: {message}");

    private static void Arity(string name, List<object?> args, int want)
    {
        if (args.Count != want) throw new TemplateFunctionException($"wrong number of args for {name}: want {want} got {args.Count}");
    }

    private static string Str(object? value)
    {
        if (value is string s) return s;
        throw new TemplateFunctionException($"wrong type for value; expected string; got {GoValues.TypeName(value)}");
    }

    public static object? Call(string name, List<object?> args, IReadOnlyDictionary<string, string> environment)
    {
        switch (name)
        {
            case "default":
                Arity(name, args, 2);
                return args[1] is string { Length: > 0 } v ? v : args[0] as string ?? GoValues.Format(args[0]);
            case "env":
                Arity(name, args, 1);
                return environment.TryGetValue(Str(args[0]), out var envValue) ? envValue : "";
            case "split":
            {
                Arity(name, args, 2);
                var (sep, s) = (Str(args[0]), Str(args[1]).Trim());
                return s.Length == 0 ? new List<string>() : GoSplit(s, sep);
            }
            case "join":
            {
                Arity(name, args, 2);
                var sep = Str(args[0]);
                var list = args[1] switch
                {
                    List<string> l => l,
                    null => [],
                    _ => throw new TemplateFunctionException($"wrong type for value; expected []string; got {GoValues.TypeName(args[1])}"),
                };
                return string.Join(sep, list);
            }
            case "replaceAll":
                Arity(name, args, 3);
                return ReplaceAll(Str(args[2]), Str(args[0]), Str(args[1]));
            case "regexReplaceAll":
                Arity(name, args, 3);
                return GoRegex.ReplaceAll(Str(args[0]), Str(args[1]), Str(args[2]), name);
            case "loop":
                return Loop(args);
            case "printf":
                if (args.Count == 0) throw new TemplateFunctionException("wrong number of args for printf: want at least 1 got 0");
                return GoPrintf.Sprintf(Str(args[0]), args.Skip(1).ToList());
            case "print":
                return GoPrintf.Sprint(args);
            case "println":
                return string.Join(' ', args.Select(GoValues.Format)) + "\n";
            case "html":
                return HtmlEscape(EvalArgs(args));
            case "js":
                return JsEscape(EvalArgs(args));
            case "urlquery":
                return UrlQueryEscape(EvalArgs(args));
            case "len":
                Arity(name, args, 1);
                return args[0] switch
                {
                    string s => (long)Encoding.UTF8.GetByteCount(s),
                    ICollection c => (long)c.Count,
                    IReadOnlyDictionary<string, string> m => (long)m.Count,
                    _ => throw CallError(name, $"len of type {GoValues.TypeName(args[0])}"),
                };
            case "index":
                return Index(args);
            case "slice":
                throw CallError(name, "slice is not supported in a ContainerPilot config");
            case "not":
                Arity(name, args, 1);
                return !GoValues.IsTrue(args[0]);
            case "eq":
                if (args.Count < 2) throw CallError(name, "missing argument for comparison");
                return args.Skip(1).Any(a => Compare(args[0], a, name, ordered: false) == 0);
            case "ne":
                Arity(name, args, 2);
                return Compare(args[0], args[1], name, ordered: false) != 0;
            case "lt":
                Arity(name, args, 2);
                return Compare(args[0], args[1], name, ordered: true) < 0;
            case "le":
                Arity(name, args, 2);
                return Compare(args[0], args[1], name, ordered: true) <= 0;
            case "gt":
                Arity(name, args, 2);
                return Compare(args[0], args[1], name, ordered: true) > 0;
            case "ge":
                Arity(name, args, 2);
                return Compare(args[0], args[1], name, ordered: true) >= 0;
            case "call":
                throw CallError(name, "non-function of type " + (args.Count > 0 ? GoValues.TypeName(args[0]) : "<nil>"));
            default:
                throw new TemplateFunctionException($"function \"{name}\" not defined");
        }
    }

    private static List<string> GoSplit(string s, string sep)
    {
        if (sep.Length > 0) return [.. s.Split(sep)];
        // Go's strings.Split with an empty separator splits after each UTF-8 sequence.
        var parts = new List<string>();
        var e = StringInfo.GetTextElementEnumerator(s);
        while (e.MoveNext()) parts.Add((string)e.Current);
        return parts;
    }

    private static string ReplaceAll(string s, string from, string to)
    {
        if (from.Length > 0) return s.Replace(from, to, StringComparison.Ordinal);
        // Go inserts the replacement before every rune and at the end when "from" is empty.
        var sb = new StringBuilder(to);
        foreach (var c in s) sb.Append(c).Append(to);
        return sb.ToString();
    }

    private static List<long> Loop(List<object?> args)
    {
        long start, stop;
        switch (args.Count)
        {
            case 1:
                (start, stop) = (0, EnsureInt(args[0]));
                break;
            case 2:
                (start, stop) = (EnsureInt(args[0]), EnsureInt(args[1]));
                break;
            default:
                throw CallError("loop", $"loop: wrong number of arguments, expected 1 or 2, but got {args.Count}");
        }
        var result = new List<long>();
        if (stop < start)
        {
            for (var i = start; i > stop; i--) result.Add(i);
        }
        else
        {
            for (var i = start; i < stop; i++) result.Add(i);
        }
        return result;
    }

    private static long EnsureInt(object? value) => value switch
    {
        long l => l,
        string s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && s.Length > 0 && s[0] != ' '
            ? l
            : throw CallError("loop", $"strconv.Atoi: parsing {GoPrintf.Quote(s)}: invalid syntax"),
        // v3 panics on an unchecked cast here; Pilot reports it instead.
        _ => throw CallError("loop", $"interface conversion: interface {{}} is {GoValues.TypeName(value)}, not int"),
    };

    private static object? Index(List<object?> args)
    {
        if (args.Count == 0) throw new TemplateFunctionException("wrong number of args for index: want at least 1 got 0");
        var item = args[0];
        foreach (var key in args.Skip(1))
        {
            item = item switch
            {
                IReadOnlyDictionary<string, string> map => key is string k
                    ? (map.TryGetValue(k, out var v) ? v : "")
                    : throw CallError("index", $"value has type {GoValues.TypeName(key)}; should be string"),
                IList list => key is long i
                    ? (i >= 0 && i < list.Count ? list[(int)i] : throw CallError("index", $"index out of range: {i}"))
                    : throw CallError("index", "cannot index slice/array with type " + GoValues.TypeName(key)),
                string s => key is long j
                    ? (j >= 0 && j < Encoding.UTF8.GetByteCount(s) ? (long)Encoding.UTF8.GetBytes(s)[j] : throw CallError("index", $"index out of range: {j}"))
                    : throw CallError("index", "cannot index slice/array with type " + GoValues.TypeName(key)),
                null => throw CallError("index", "index of untyped nil"),
                _ => throw CallError("index", "can't index item of type " + GoValues.TypeName(item)),
            };
        }
        return item;
    }

    private static int Compare(object? a, object? b, string name, bool ordered)
    {
        switch (a, b)
        {
            case (null, null) when !ordered:
                return 0;
            case (string x, string y):
                return string.CompareOrdinal(x, y) switch { < 0 => -1, 0 => 0, _ => 1 };
            case (long x, long y):
                return x.CompareTo(y);
            case (double x, double y):
                return x.CompareTo(y);
            case (bool x, bool y) when !ordered:
                return x == y ? 0 : 1;
            case (bool, bool):
                throw CallError(name, "invalid type for comparison");
            default:
                if (a is null || b is null || a is IEnumerable and not string || b is IEnumerable and not string)
                    throw CallError(name, ordered ? "invalid type for comparison" : "incompatible types for comparison");
                throw CallError(name, "incompatible types for comparison");
        }
    }

    private static string EvalArgs(List<object?> args) =>
        args is [string only] ? only : GoPrintf.Sprint(args);

    private static string HtmlEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '\0' => "\uFFFD",
                '"' => "&#34;",
                '\'' => "&#39;",
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    private static string JsEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\'': sb.Append(@"\'"); break;
                case '"': sb.Append("\\\""); break;
                case '<': sb.Append(@"\u003C"); break;
                case '>': sb.Append(@"\u003E"); break;
                case '&': sb.Append(@"\u0026"); break;
                case '=': sb.Append(@"\u003D"); break;
                default:
                    if (c < ' ' || (c >= 0x80 && char.IsControl(c))) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static string UrlQueryEscape(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~') sb.Append(c);
            else if (c == ' ') sb.Append('+');
            else sb.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }
        return sb.ToString();
    }
}

/// <summary>Go RE2 syntax and <c>Regexp.ReplaceAllString</c> expansion on top of .NET regex.</summary>
internal static class GoRegex
{
    public static string ReplaceAll(string pattern, string replacement, string input, string function)
    {
        var (dotnet, names) = Translate(pattern, function);
        Regex regex;
        try
        {
            regex = new Regex(dotnet, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
        }
        catch (ArgumentException ex)
        {
            throw new TemplateFunctionException($"error calling {function}: error parsing regexp: {ex.Message}");
        }
        return regex.Replace(input, m => Expand(replacement, m, names));
    }

    /// <summary>
    /// Go numbers every group left to right, named or not, while .NET numbers named groups last; so named groups become
    /// plain groups and their names are kept here. Go's <c>\d \w \s</c> are ASCII-only and <c>$</c> is end of text.
    /// </summary>
    internal static (string Pattern, Dictionary<string, int> Names) Translate(string pattern, string function)
    {
        var sb = new StringBuilder();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = 0;
        var inClass = false;
        var multiline = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var e = pattern[++i];
                switch (e)
                {
                    case 'd': sb.Append(inClass ? "0-9" : "[0-9]"); break;
                    case 'D': sb.Append(inClass ? @"\x00-/:-\uFFFF" : "[^0-9]"); break;
                    case 'w': sb.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]"); break;
                    case 'W': sb.Append(inClass ? @"\x00-/:-@\[-^`{-\uFFFF" : "[^0-9A-Za-z_]"); break;
                    case 's': sb.Append(inClass ? @"\t\n\f\r " : @"[\t\n\f\r ]"); break;
                    case 'S': sb.Append(inClass ? @"\x00-\x08\x0B\x0E-\x1F!-\uFFFF" : @"[^\t\n\f\r ]"); break;
                    case 'z': sb.Append(@"\z"); break;
                    case 'Q':
                    {
                        var end = pattern.IndexOf(@"\E", i + 1, StringComparison.Ordinal);
                        var literal = end < 0 ? pattern[(i + 1)..] : pattern[(i + 1)..end];
                        sb.Append(Regex.Escape(literal));
                        i = end < 0 ? pattern.Length : end + 1;
                        break;
                    }
                    case 'p' or 'P' when i + 1 < pattern.Length && pattern[i + 1] != '{':
                        sb.Append('\\').Append(e).Append('{').Append(pattern[++i]).Append('}');
                        break;
                    default: sb.Append('\\').Append(e); break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    var end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        var cls = pattern[(i + 2)..end];
                        var negated = cls.StartsWith('^');
                        var set = PosixClass(negated ? cls[1..] : cls, function);
                        if (negated) throw new TemplateFunctionException($"error calling {function}: error parsing regexp: negated POSIX class [:{cls}:] is not supported");
                        sb.Append(set);
                        i = end + 1;
                        continue;
                    }
                }
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^') sb.Append(pattern[++i]);
                    if (i + 1 < pattern.Length && pattern[i + 1] == ']') sb.Append('\\').Append(pattern[++i]);
                    break;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] == '?':
                {
                    var rest = pattern[(i + 2)..];
                    var nameStart = rest.StartsWith("P<", StringComparison.Ordinal) ? 2 : rest.StartsWith('<') && rest.Length > 1 && rest[1] is not ('=' or '!') ? 1 : -1;
                    if (nameStart > 0)
                    {
                        var close = rest.IndexOf('>', StringComparison.Ordinal);
                        groups++;
                        names.TryAdd(rest[nameStart..close], groups);
                        sb.Append('(');
                        i += 2 + close;
                    }
                    else
                    {
                        var flagsEnd = rest.IndexOfAny([')', ':']);
                        if (flagsEnd > 0 && rest[..flagsEnd].Contains('m', StringComparison.Ordinal)) multiline = true;
                        sb.Append(c);
                    }
                    break;
                }
                case '(':
                    groups++;
                    sb.Append(c);
                    break;
                case '$':
                    sb.Append(multiline ? "$" : @"\z");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return (sb.ToString(), names);
    }

    private static string PosixClass(string name, string function) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => @"\x00-\x7F",
        "blank" => @"\t ",
        "cntrl" => @"\x00-\x1F\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => @"!-/:-@\[-`{-~",
        "space" => @"\t\n\v\f\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        _ => throw new TemplateFunctionException($"error calling {function}: error parsing regexp: invalid character class range: `[:{name}:]`"),
    };

    /// <summary>Go's <c>Regexp.Expand</c>: <c>$1</c>, <c>${1}</c>, <c>$name</c>, <c>${name}</c>, <c>$$</c>; the longest name wins and unknown groups are empty.</summary>
    internal static string Expand(string template, Match match, Dictionary<string, int> names)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            var dollar = template.IndexOf('$', i);
            if (dollar < 0)
            {
                sb.Append(template, i, template.Length - i);
                break;
            }
            sb.Append(template, i, dollar - i);
            i = dollar + 1;
            if (i < template.Length && template[i] == '$')
            {
                sb.Append('$');
                i++;
                continue;
            }
            var brace = i < template.Length && template[i] == '{';
            var start = brace ? i + 1 : i;
            var end = start;
            while (end < template.Length && (char.IsLetterOrDigit(template[end]) || template[end] == '_')) end++;
            if (end == start || (brace && (end >= template.Length || template[end] != '}')))
            {
                sb.Append('$'); // malformed: the dollar is literal text
                continue;
            }
            var name = template[start..end];
            i = brace ? end + 1 : end;
            int group;
            if (name.All(char.IsAsciiDigit))
            {
                if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out group)) continue;
            }
            else if (!names.TryGetValue(name, out group))
            {
                continue;
            }
            if (group < match.Groups.Count && match.Groups[group].Success) sb.Append(match.Groups[group].Value);
        }
        return sb.ToString();
    }
}
