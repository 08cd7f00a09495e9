using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Config.Json5;

/// <summary>A JSON5 syntax error at a 1-based line and column, with Go encoding/json-style wording.</summary>
public sealed class Json5SyntaxException(string message, int line, int column) : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
}

/// <summary>
/// Reads JSON5 (https://spec.json5.org) into a <see cref="Json5Node"/> tree that keeps positions.
/// Error wording follows Go's encoding/json (what v3's flynn/json5 prints), e.g.
/// <c>invalid character 'r' after object key:value pair</c>.
/// </summary>
public sealed class Json5Reader
{
    private readonly string text;
    private int pos;
    private int line = 1;
    private int lineStart;

    private Json5Reader(string text) => this.text = text;

    public static Json5Node Parse(string text)
    {
        var reader = new Json5Reader(text);
        reader.SkipWhitespaceAndComments();
        if (reader.AtEnd) throw reader.Error("unexpected end of JSON input");
        var value = reader.ReadValue();
        reader.SkipWhitespaceAndComments();
        if (!reader.AtEnd) throw reader.Error($"invalid character {Quote(reader.Peek)} after top-level value");
        return value;
    }

    private bool AtEnd => pos >= text.Length;
    private char Peek => text[pos];
    private int Column => pos - lineStart + 1;

    private Json5SyntaxException Error(string message) => new(message, line, Column);

    private static string Quote(char c) => c switch
    {
        '\'' => @"'\''",
        '"' => "'\"'",
        _ when char.IsControl(c) => "'" + (c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\x{(int)c:x2}" }) + "'",
        _ => "'" + c + "'",
    };

    private void Advance()
    {
        var c = text[pos++];
        if (c == '\n' || (c == '\r' && (pos >= text.Length || text[pos] != '\n')) || c == '\u2028' || c == '\u2029')
        {
            line++;
            lineStart = pos;
        }
    }

    private static bool IsJson5Whitespace(char c) =>
        c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f' or '\u00A0' or '\uFEFF' or '\u2028' or '\u2029'
        || char.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator;

    private void SkipWhitespaceAndComments()
    {
        while (!AtEnd)
        {
            var c = Peek;
            if (IsJson5Whitespace(c))
            {
                Advance();
            }
            else if (c == '/' && pos + 1 < text.Length && text[pos + 1] == '/')
            {
                while (!AtEnd && Peek is not ('\n' or '\r' or '\u2028' or '\u2029')) Advance();
            }
            else if (c == '/' && pos + 1 < text.Length && text[pos + 1] == '*')
            {
                var (l, col) = (line, Column);
                Advance();
                Advance();
                while (true)
                {
                    if (AtEnd) throw new Json5SyntaxException("unexpected end of JSON input (unterminated comment)", l, col);
                    if (Peek == '*' && pos + 1 < text.Length && text[pos + 1] == '/')
                    {
                        Advance();
                        Advance();
                        break;
                    }
                    Advance();
                }
            }
            else
            {
                return;
            }
        }
    }

    private Json5Node ReadValue()
    {
        var (l, col) = (line, Column);
        var c = Peek;
        switch (c)
        {
            case '{': return ReadObject();
            case '[': return ReadArray();
            case '"' or '\'': return new Json5String(ReadString(), l, col);
        }
        if (c is '-' or '+' or '.' or (>= '0' and <= '9')
            || string.CompareOrdinal(text, pos, "Infinity", 0, 8) == 0 || string.CompareOrdinal(text, pos, "NaN", 0, 3) == 0)
        {
            return ReadNumber();
        }
        if (TryLiteral("true")) return new Json5Bool(true, l, col);
        if (TryLiteral("false")) return new Json5Bool(false, l, col);
        if (TryLiteral("null")) return new Json5Null(l, col);
        throw Error($"invalid character {Quote(c)} looking for beginning of value");
    }

    private bool TryLiteral(string word)
    {
        if (string.CompareOrdinal(text, pos, word, 0, word.Length) != 0) return false;
        var end = pos + word.Length;
        if (end < text.Length && IsIdentifierPart(text[end])) return false;
        for (var i = 0; i < word.Length; i++) Advance();
        return true;
    }

    private Json5Object ReadObject()
    {
        var (l, col) = (line, Column);
        Advance(); // {
        var props = new List<Json5Property>();
        SkipWhitespaceAndComments();
        while (true)
        {
            if (AtEnd) throw Error("unexpected end of JSON input");
            if (Peek == '}')
            {
                Advance();
                break;
            }
            var (kl, kc) = (line, Column);
            var key = ReadKey();
            SkipWhitespaceAndComments();
            if (AtEnd) throw Error("unexpected end of JSON input");
            if (Peek != ':') throw Error($"invalid character {Quote(Peek)} after object key");
            Advance();
            SkipWhitespaceAndComments();
            if (AtEnd) throw Error("unexpected end of JSON input");
            var value = ReadValue();
            props.RemoveAll(p => p.Key == key);
            props.Add(new Json5Property(key, kl, kc, value));
            if (EndOfElement('}', "object key:value pair"))
            {
                break;
            }
        }
        return new Json5Object(props, l, col);
    }

    private Json5Array ReadArray()
    {
        var (l, col) = (line, Column);
        Advance(); // [
        var items = new List<Json5Node>();
        SkipWhitespaceAndComments();
        while (true)
        {
            if (AtEnd) throw Error("unexpected end of JSON input");
            if (Peek == ']')
            {
                Advance();
                break;
            }
            items.Add(ReadValue());
            if (EndOfElement(']', "array element"))
            {
                break;
            }
        }
        return new Json5Array(items, l, col);
    }

    /// <summary>After an element: true when <paramref name="close"/> ends the container, false after a comma.</summary>
    private bool EndOfElement(char close, string element)
    {
        SkipWhitespaceAndComments();
        if (AtEnd) throw Error("unexpected end of JSON input");
        if (Peek == ',')
        {
            Advance();
            SkipWhitespaceAndComments();
            return false;
        }
        if (Peek == close)
        {
            Advance();
            return true;
        }
        throw Error($"invalid character {Quote(Peek)} after {element}");
    }

    private string ReadKey()
    {
        var c = Peek;
        if (c is '"' or '\'') return ReadString();
        if (!IsIdentifierStart(c) && c != '\\')
            throw Error($"invalid character {Quote(c)} looking for beginning of object key string");
        var sb = new StringBuilder();
        while (!AtEnd)
        {
            c = Peek;
            if (c == '\\')
            {
                Advance();
                if (AtEnd || Peek != 'u') throw Error("invalid character in identifier escape");
                Advance();
                sb.Append(ReadHex(4));
            }
            else if (sb.Length == 0 ? IsIdentifierStart(c) : IsIdentifierPart(c))
            {
                sb.Append(c);
                Advance();
            }
            else
            {
                break;
            }
        }
        return sb.ToString();
    }

    private static bool IsIdentifierStart(char c) => c is '$' or '_' || char.IsLetter(c)
        || char.GetUnicodeCategory(c) == UnicodeCategory.LetterNumber;

    private static bool IsIdentifierPart(char c) => IsIdentifierStart(c) || char.IsDigit(c)
        || char.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.ConnectorPunctuation
        || c is '\u200C' or '\u200D';

    private char ReadHex(int digits)
    {
        var value = 0;
        for (var i = 0; i < digits; i++)
        {
            if (AtEnd) throw Error("unexpected end of JSON input");
            var d = HexValue(Peek);
            if (d < 0) throw Error($"invalid character {Quote(Peek)} in string escape code");
            value = (value * 16) + d;
            Advance();
        }
        return (char)value;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private string ReadString()
    {
        var quote = Peek;
        Advance();
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd) throw Error("unexpected end of JSON input");
            var c = Peek;
            if (c == quote)
            {
                Advance();
                return sb.ToString();
            }
            if (c is '\n' or '\r') throw Error($"invalid character {Quote(c)} in string literal");
            if (c != '\\')
            {
                sb.Append(c);
                Advance();
                continue;
            }
            Advance(); // backslash
            if (AtEnd) throw Error("unexpected end of JSON input");
            c = Peek;
            switch (c)
            {
                case 'b': sb.Append('\b'); Advance(); break;
                case 'f': sb.Append('\f'); Advance(); break;
                case 'n': sb.Append('\n'); Advance(); break;
                case 'r': sb.Append('\r'); Advance(); break;
                case 't': sb.Append('\t'); Advance(); break;
                case 'v': sb.Append('\v'); Advance(); break;
                case '0':
                    Advance();
                    if (!AtEnd && char.IsAsciiDigit(Peek)) throw Error($"invalid character {Quote(Peek)} in string escape code");
                    sb.Append('\0');
                    break;
                case 'x': Advance(); sb.Append(ReadHex(2)); break;
                case 'u': Advance(); sb.Append(ReadHex(4)); break;
                case '\r':
                    // Line continuation: the escaped line terminator is dropped.
                    Advance();
                    if (!AtEnd && Peek == '\n') Advance();
                    break;
                case '\n' or '\u2028' or '\u2029': Advance(); break;
                case >= '1' and <= '9': throw Error($"invalid character {Quote(c)} in string escape code");
                default: sb.Append(c); Advance(); break;
            }
        }
    }

    private Json5Number ReadNumber()
    {
        var (l, col) = (line, Column);
        var start = pos;
        var negative = false;
        if (Peek is '+' or '-')
        {
            negative = Peek == '-';
            Advance();
            if (AtEnd) throw Error("unexpected end of JSON input");
        }
        if (TryLiteral("Infinity")) return new Json5Number(negative ? double.NegativeInfinity : double.PositiveInfinity, l, col);
        if (TryLiteral("NaN")) return new Json5Number(double.NaN, l, col);
        if (Peek == '0' && pos + 1 < text.Length && text[pos + 1] is 'x' or 'X')
        {
            Advance();
            Advance();
            var hexStart = pos;
            while (!AtEnd && HexValue(Peek) >= 0) Advance();
            if (pos == hexStart) throw Error(AtEnd ? "unexpected end of JSON input" : $"invalid character {Quote(Peek)} in numeric literal");
            var magnitude = 0d;
            foreach (var h in text.AsSpan(hexStart, pos - hexStart)) magnitude = (magnitude * 16) + HexValue(h);
            CheckNumberEnd();
            return new Json5Number(negative ? -magnitude : magnitude, l, col);
        }
        var digitsBefore = 0;
        if (!AtEnd && Peek == '0')
        {
            Advance();
            digitsBefore = 1;
            if (!AtEnd && char.IsAsciiDigit(Peek)) throw Error($"invalid character {Quote(Peek)} after top-level value");
        }
        else
        {
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                Advance();
                digitsBefore++;
            }
        }
        var digitsAfter = 0;
        if (!AtEnd && Peek == '.')
        {
            Advance();
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                Advance();
                digitsAfter++;
            }
        }
        if (digitsBefore == 0 && digitsAfter == 0)
            throw Error(AtEnd ? "unexpected end of JSON input" : $"invalid character {Quote(Peek)} in numeric literal");
        if (!AtEnd && Peek is 'e' or 'E')
        {
            Advance();
            if (!AtEnd && Peek is '+' or '-') Advance();
            var expDigits = 0;
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                Advance();
                expDigits++;
            }
            if (expDigits == 0) throw Error(AtEnd ? "unexpected end of JSON input" : $"invalid character {Quote(Peek)} in exponent of numeric literal");
        }
        CheckNumberEnd();
        var literal = text[start..pos];
        var value = double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new Json5Number(value, l, col);
    }

    private void CheckNumberEnd()
    {
        if (!AtEnd && IsIdentifierPart(Peek)) throw Error($"invalid character {Quote(Peek)} in numeric literal");
    }
}
