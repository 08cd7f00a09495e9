using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Config.Templates;

/// <summary>Parses the Go text/template subset ContainerPilot configs use into a node tree.</summary>
internal sealed class TemplateParser
{
    private readonly string text;
    private readonly ISet<string> functions;
    private readonly List<(string Kind, object Payload, int Line, int Column)> items = [];
    private int index;
    private int rangeDepth;

    private TemplateParser(string text, ISet<string> functions)
    {
        this.text = text;
        this.functions = functions;
    }

    public static IReadOnlyList<TemplateNode> Parse(string text, ISet<string> functions)
    {
        var parser = new TemplateParser(text, functions);
        parser.Scan();
        var list = parser.ParseList(out var terminator);
        if (terminator is not null)
            throw Fail(terminator.Value.Line, $"unexpected {{{{{terminator.Value.Word}}}}}");
        return list;
    }

    private static TemplateException Fail(int line, string message) => new($"template: :{line}: {message}");

    private int LineAt(int offset)
    {
        var line = 1;
        for (var i = 0; i < offset && i < text.Length; i++) if (text[i] == '\n') line++;
        return line;
    }

    /// <summary>Go's column in error positions: the byte offset from the start of the line, counted from 0.</summary>
    private int ColumnAt(int offset)
    {
        var lastNewline = text.LastIndexOf('\n', Math.Max(0, Math.Min(offset, text.Length) - 1));
        return offset - lastNewline - 1;
    }

    /// <summary>Splits the text into text pieces and action token lists, applying <c>{{-</c>/<c>-}}</c> trimming.</summary>
    private void Scan()
    {
        var pos = 0;
        var trimNext = false;
        while (pos <= text.Length)
        {
            var open = text.IndexOf("{{", pos, StringComparison.Ordinal);
            var chunk = open < 0 ? text[pos..] : text[pos..open];
            if (trimNext) chunk = chunk.TrimStart(' ', '\t', '\r', '\n');
            if (open < 0)
            {
                if (chunk.Length > 0) items.Add(("text", chunk, 0, 0));
                return;
            }
            var inner = open + 2;
            var trimLeft = inner + 1 < text.Length && text[inner] == '-' && text[inner + 1] is ' ' or '\t' or '\r' or '\n';
            if (trimLeft)
            {
                chunk = chunk.TrimEnd(' ', '\t', '\r', '\n');
                inner += 2;
            }
            if (chunk.Length > 0) items.Add(("text", chunk, 0, 0));
            var line = LineAt(open);
            // Comment: {{/* ... */}} (with optional trim markers).
            var afterSpace = inner;
            while (afterSpace < text.Length && text[afterSpace] is ' ' or '\t' or '\r' or '\n' && trimLeft) afterSpace++;
            if (string.CompareOrdinal(text, afterSpace, "/*", 0, 2) == 0)
            {
                var endComment = text.IndexOf("*/", afterSpace + 2, StringComparison.Ordinal);
                if (endComment < 0) throw Fail(line, "unclosed comment");
                var rest = endComment + 2;
                var trimRight = false;
                if (rest + 3 < text.Length + 1 && string.CompareOrdinal(text, rest, " -}}", 0, 4) == 0)
                {
                    trimRight = true;
                    rest += 4;
                }
                else if (string.CompareOrdinal(text, rest, "}}", 0, 2) == 0)
                {
                    rest += 2;
                }
                else
                {
                    throw Fail(line, "comment ends before closing delimiter");
                }
                trimNext = trimRight;
                pos = rest;
                continue;
            }
            var (tokens, end, trimNextAction) = LexAction(inner, line);
            items.Add(("action", tokens, line, ColumnAt(open)));
            trimNext = trimNextAction;
            pos = end;
        }
    }

    private (List<Token> Tokens, int End, bool TrimRight) LexAction(int pos, int line)
    {
        var tokens = new List<Token>();
        var space = true;
        while (true)
        {
            if (pos >= text.Length) throw Fail(line, "unclosed action");
            var c = text[pos];
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                if (c == '\n') line++;
                // " -}}" closes with right trim.
                if (string.CompareOrdinal(text, pos, " -}}", 0, 4) == 0 || (c != ' ' && pos + 3 < text.Length && text[pos + 1] == '-' && text[pos + 2] == '}' && text[pos + 3] == '}'))
                    return (tokens, pos + 4, true);
                pos++;
                space = true;
                continue;
            }
            if (c == '}' && pos + 1 < text.Length && text[pos + 1] == '}') return (tokens, pos + 2, false);
            var col = ColumnAt(pos);
            var start = pos;
            Token token;
            switch (c)
            {
                case '|': token = new Token(TokenKind.Pipe, "|", line, col, space); pos++; break;
                case '(': token = new Token(TokenKind.LeftParen, "(", line, col, space); pos++; break;
                case ')': token = new Token(TokenKind.RightParen, ")", line, col, space); pos++; break;
                case ',': token = new Token(TokenKind.Comma, ",", line, col, space); pos++; break;
                case ':' when pos + 1 < text.Length && text[pos + 1] == '=':
                    token = new Token(TokenKind.Declare, ":=", line, col, space);
                    pos += 2;
                    break;
                case '=': token = new Token(TokenKind.Assign, "=", line, col, space); pos++; break;
                case '"':
                {
                    pos++;
                    var sb = new StringBuilder();
                    while (true)
                    {
                        if (pos >= text.Length || text[pos] == '\n') throw Fail(line, "unterminated quoted string");
                        var ch = text[pos];
                        if (ch == '"') { pos++; break; }
                        if (ch == '\\') { pos = ReadEscape(pos + 1, sb, line, '"'); continue; }
                        sb.Append(ch);
                        pos++;
                    }
                    token = new Token(TokenKind.String, text[start..pos], line, col, space, sb.ToString());
                    break;
                }
                case '`':
                {
                    var close = text.IndexOf('`', pos + 1);
                    if (close < 0) throw Fail(line, "unterminated raw quoted string");
                    var value = text[(pos + 1)..close];
                    pos = close + 1;
                    token = new Token(TokenKind.String, text[start..pos], line, col, space, value);
                    line += value.Count(ch => ch == '\n');
                    break;
                }
                case '\'':
                {
                    var sb = new StringBuilder();
                    pos++;
                    if (pos < text.Length && text[pos] == '\\') pos = ReadEscape(pos + 1, sb, line, '\'');
                    else if (pos < text.Length) sb.Append(text[pos++]);
                    if (pos >= text.Length || text[pos] != '\'') throw Fail(line, "unterminated character constant");
                    pos++;
                    token = new Token(TokenKind.Char, text[start..pos], line, col, space, sb.ToString());
                    break;
                }
                case '$':
                    pos++;
                    while (pos < text.Length && IsAlnum(text[pos])) pos++;
                    token = new Token(TokenKind.Variable, text[start..pos], line, col, space);
                    break;
                case '.' when pos + 1 < text.Length && IsAlnum(text[pos + 1]) && !char.IsAsciiDigit(text[pos + 1]):
                    pos++;
                    while (pos < text.Length && IsAlnum(text[pos])) pos++;
                    token = new Token(TokenKind.Field, text[start..pos], line, col, space);
                    break;
                case '.' when !(pos + 1 < text.Length && char.IsAsciiDigit(text[pos + 1])):
                    pos++;
                    token = new Token(TokenKind.Dot, ".", line, col, space);
                    break;
                default:
                    if (c is '+' or '-' or '.' || char.IsAsciiDigit(c))
                    {
                        pos++;
                        while (pos < text.Length && (IsAlnum(text[pos]) || text[pos] is '.' || (text[pos] is '+' or '-' && text[pos - 1] is 'e' or 'E' or 'p' or 'P'))) pos++;
                        token = new Token(TokenKind.Number, text[start..pos], line, col, space);
                    }
                    else if (IsAlnum(c))
                    {
                        while (pos < text.Length && IsAlnum(text[pos])) pos++;
                        token = new Token(TokenKind.Identifier, text[start..pos], line, col, space);
                    }
                    else
                    {
                        throw Fail(line, $"unexpected \"{c}\" in command");
                    }
                    break;
            }
            tokens.Add(token);
            space = false;
        }
    }

    private static bool IsAlnum(char c) => c == '_' || char.IsLetterOrDigit(c);

    private int ReadEscape(int pos, StringBuilder sb, int line, char quote)
    {
        if (pos >= text.Length) throw Fail(line, "unterminated quoted string");
        var c = text[pos];
        switch (c)
        {
            case 'n': sb.Append('\n'); return pos + 1;
            case 't': sb.Append('\t'); return pos + 1;
            case 'r': sb.Append('\r'); return pos + 1;
            case 'a': sb.Append('\a'); return pos + 1;
            case 'b': sb.Append('\b'); return pos + 1;
            case 'f': sb.Append('\f'); return pos + 1;
            case 'v': sb.Append('\v'); return pos + 1;
            case '\\': sb.Append('\\'); return pos + 1;
            case 'x' or 'u' or 'U':
            {
                var digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
                if (pos + digits >= text.Length + 0 && pos + digits > text.Length) throw Fail(line, "invalid syntax");
                var hex = text.Substring(pos + 1, Math.Min(digits, text.Length - pos - 1));
                if (hex.Length != digits || !int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                    throw Fail(line, "invalid syntax");
                if (c == 'x') sb.Append((char)code);
                else sb.Append(char.ConvertFromUtf32(code));
                return pos + 1 + digits;
            }
            case >= '0' and <= '7':
            {
                var oct = text.Substring(pos, Math.Min(3, text.Length - pos));
                if (oct.Length != 3 || oct.Any(ch => ch is < '0' or > '7')) throw Fail(line, "invalid syntax");
                sb.Append((char)Convert.ToInt32(oct, 8));
                return pos + 3;
            }
            default:
                if (c == quote)
                {
                    sb.Append(c);
                    return pos + 1;
                }
                throw Fail(line, "invalid syntax");
        }
    }

    private IReadOnlyList<TemplateNode> ParseList(out (string Word, int Line, List<Token> Tokens)? terminator)
    {
        var list = new List<TemplateNode>();
        while (index < items.Count)
        {
            var (kind, payload, line, column) = items[index++];
            if (kind == "text")
            {
                list.Add(new TextNode((string)payload));
                continue;
            }
            var tokens = (List<Token>)payload;
            if (tokens.Count == 0) throw Fail(line, "missing value for command");
            var first = tokens[0];
            if (first.Kind == TokenKind.Identifier)
            {
                switch (first.Text)
                {
                    case "end" or "else":
                        terminator = (first.Text, line, tokens);
                        return list;
                    case "if" or "range" or "with":
                        list.Add(ParseBranch(first.Text, tokens, line, column));
                        continue;
                    case "break" or "continue":
                        if (rangeDepth == 0) throw Fail(line, $"{{{{{first.Text}}}}} outside {{{{range}}}}");
                        if (tokens.Count > 1) throw Fail(line, $"unexpected {Describe(tokens[1])} in {{{{{first.Text}}}}}");
                        list.Add(new BreakNode(first.Text == "continue", line, column));
                        continue;
                    case "define" or "template" or "block":
                        throw Fail(line, $"{{{{{first.Text}}}}} is not supported in a ContainerPilot config");
                }
            }
            var pipe = new PipelineReader(this, tokens, line, "command").ReadPipeline(allowDeclaration: true, allowTwoVariables: false);
            list.Add(new ActionNode(pipe, line, column));
        }
        terminator = null;
        return list;
    }

    private BranchNode ParseBranch(string keyword, List<Token> tokens, int line, int column)
    {
        var pipe = new PipelineReader(this, tokens.Skip(1).ToList(), line, keyword)
            .ReadPipeline(allowDeclaration: true, allowTwoVariables: keyword == "range");
        if (pipe.Commands.Count == 0) throw Fail(line, $"missing value for {keyword}");
        if (keyword == "range") rangeDepth++;
        var body = ParseList(out var term);
        if (keyword == "range") rangeDepth--;
        if (term is null) throw Fail(line, "unexpected EOF");
        IReadOnlyList<TemplateNode>? elseList = null;
        if (term.Value.Word == "else")
        {
            var elseTokens = term.Value.Tokens;
            if (elseTokens.Count > 1 && elseTokens[1].Kind == TokenKind.Identifier && elseTokens[1].Text is "if" or "with" && keyword != "range")
            {
                // {{else if ...}} is an if nested in the else branch that shares this branch's {{end}}.
                var nested = ParseBranch(elseTokens[1].Text, elseTokens.Skip(1).ToList(), term.Value.Line, column);
                return new BranchNode(keyword, pipe, body, [nested], line, column);
            }
            if (elseTokens.Count > 1) throw Fail(term.Value.Line, $"unexpected {Describe(elseTokens[1])} in else");
            elseList = ParseList(out var endTerm);
            if (endTerm is null) throw Fail(line, "unexpected EOF");
            if (endTerm.Value.Word != "end") throw Fail(endTerm.Value.Line, "expected end; found {{else}}");
            if (endTerm.Value.Tokens.Count > 1) throw Fail(endTerm.Value.Line, $"unexpected {Describe(endTerm.Value.Tokens[1])} in end");
        }
        else if (term.Value.Tokens.Count > 1)
        {
            throw Fail(term.Value.Line, $"unexpected {Describe(term.Value.Tokens[1])} in end");
        }
        return new BranchNode(keyword, pipe, body, elseList, line, column);
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.String or TokenKind.Char or TokenKind.Number => token.Text,
        _ => "\"" + token.Text + "\"",
    };

    /// <summary>Reads one pipeline from an action's tokens.</summary>
    private sealed class PipelineReader(TemplateParser parser, List<Token> tokens, int line, string context)
    {
        private int at;

        private Token? Current => at < tokens.Count ? tokens[at] : null;

        public Pipeline ReadPipeline(bool allowDeclaration, bool allowTwoVariables)
        {
            var pipe = ReadPipelineUntil(allowDeclaration, allowTwoVariables, stopAtParen: false);
            if (Current is { } extra) throw Fail(extra.Line, $"unexpected {Describe(extra)} in {context}");
            return pipe;
        }

        private Pipeline ReadPipelineUntil(bool allowDeclaration, bool allowTwoVariables, bool stopAtParen)
        {
            var startToken = at;
            var variables = new List<string>();
            var isAssign = false;
            if (allowDeclaration && Current is { Kind: TokenKind.Variable } v)
            {
                var next = at + 1 < tokens.Count ? tokens[at + 1] : null;
                if (next is { Kind: TokenKind.Declare or TokenKind.Assign })
                {
                    variables.Add(v.Text);
                    isAssign = next.Kind == TokenKind.Assign;
                    at += 2;
                }
                else if (allowTwoVariables && next is { Kind: TokenKind.Comma } && at + 3 < tokens.Count
                         && tokens[at + 2].Kind == TokenKind.Variable && tokens[at + 3].Kind is TokenKind.Declare or TokenKind.Assign)
                {
                    variables.Add(v.Text);
                    variables.Add(tokens[at + 2].Text);
                    isAssign = tokens[at + 3].Kind == TokenKind.Assign;
                    at += 4;
                }
            }
            var commands = new List<Command>();
            while (true)
            {
                var cmdStart = at;
                var args = new List<Operand>();
                while (Current is { } t && t.Kind is not (TokenKind.Pipe or TokenKind.RightParen))
                {
                    args.Add(ReadOperand());
                }
                if (args.Count == 0)
                {
                    if (Current is null && commands.Count == 0 && !stopAtParen) break;
                    throw Fail(Current?.Line ?? line, "missing value for command");
                }
                var first = tokens[cmdStart];
                commands.Add(new Command(args, Source(cmdStart, at), first.Line, first.Column));
                if (Current is { Kind: TokenKind.Pipe })
                {
                    at++;
                    continue;
                }
                break;
            }
            if (variables.Count > 0 && commands.Count == 0) throw Fail(line, "missing value for command");
            return new Pipeline(variables, isAssign, commands, Source(startToken, at));
        }

        private string Source(int from, int to)
        {
            var sb = new StringBuilder();
            for (var i = from; i < to; i++)
            {
                if (i > from && tokens[i].SpaceBefore) sb.Append(' ');
                sb.Append(tokens[i].Text);
            }
            return sb.ToString();
        }

        private List<string> ReadChainedFields()
        {
            var fields = new List<string>();
            while (Current is { Kind: TokenKind.Field, SpaceBefore: false } f)
            {
                fields.Add(f.Text[1..]);
                at++;
            }
            return fields;
        }

        private Operand ReadOperand()
        {
            var t = tokens[at++];
            switch (t.Kind)
            {
                case TokenKind.Dot:
                    if (Current is { Kind: TokenKind.Field, SpaceBefore: false } f) throw Fail(f.Line, $"unexpected {Describe(f)} in operand");
                    return new DotOperand();
                case TokenKind.Field:
                {
                    var fields = new List<string> { t.Text[1..] };
                    fields.AddRange(ReadChainedFields());
                    return new FieldOperand(fields);
                }
                case TokenKind.Variable:
                    return new VariableOperand(t.Text, ReadChainedFields());
                case TokenKind.String:
                    return new ConstantOperand(t.Value);
                case TokenKind.Char:
                    return new ConstantOperand((long)char.ConvertToUtf32(t.Value!, 0));
                case TokenKind.Number:
                    return new ConstantOperand(ParseNumber(t));
                case TokenKind.LeftParen:
                {
                    var inner = ReadPipelineUntil(allowDeclaration: true, allowTwoVariables: false, stopAtParen: true);
                    if (Current is not { Kind: TokenKind.RightParen }) throw Fail(t.Line, "unclosed left paren");
                    at++;
                    return new PipelineOperand(inner, ReadChainedFields());
                }
                case TokenKind.Identifier:
                    switch (t.Text)
                    {
                        case "true": return new ConstantOperand(true);
                        case "false": return new ConstantOperand(false);
                        case "nil": return new ConstantOperand(null);
                    }
                    if (!parser.functions.Contains(t.Text)) throw Fail(t.Line, $"function \"{t.Text}\" not defined");
                    return new FunctionOperand(t.Text);
                default:
                    throw Fail(t.Line, $"unexpected {Describe(t)} in operand");
            }
        }

        private static object ParseNumber(Token t)
        {
            var s = t.Text.Replace("_", "", StringComparison.Ordinal);
            var negative = s.StartsWith('-');
            var body = s.TrimStart('+', '-');
            try
            {
                if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !body.Contains('p', StringComparison.OrdinalIgnoreCase))
                    return Sign(Convert.ToInt64(body[2..], 16), negative);
                if (body.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) return Sign(Convert.ToInt64(body[2..], 2), negative);
                if (body.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) return Sign(Convert.ToInt64(body[2..], 8), negative);
                if (body.Length > 1 && body[0] == '0' && body.All(char.IsAsciiDigit)) return Sign(Convert.ToInt64(body, 8), negative);
                if (body.All(char.IsAsciiDigit) && long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                    return Sign(l, negative);
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
            }
            throw Fail(t.Line, $"bad number syntax: \"{t.Text}\"");
        }

        private static long Sign(long value, bool negative) => negative ? -value : value;
    }
}
