using System.Collections;
using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Config.Templates;

/// <summary>
/// A Go <c>text/template</c> subset interpreter with ContainerPilot v3's functions and <c>missingkey=zero</c>:
/// the data is a string map and a missing key renders as <c>""</c>.
/// </summary>
public static class GoTemplate
{
    internal static readonly HashSet<string> FunctionNames =
    [
        "default", "env", "split", "join", "replaceAll", "regexReplaceAll", "loop",
        "printf", "print", "println", "index", "len", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
        "html", "js", "urlquery", "call", "slice",
    ];

    /// <summary>Renders <paramref name="text"/> with <paramref name="data"/> as dot; <c>env</c> reads <paramref name="environment"/>.</summary>
    /// <exception cref="TemplateException">Go-worded parse or execution error.</exception>
    public static string Render(string text, IReadOnlyDictionary<string, string> data, IReadOnlyDictionary<string, string> environment)
    {
        var nodes = TemplateParser.Parse(text, FunctionNames);
        var output = new StringBuilder(text.Length);
        new TemplateExecutor(data, environment, output).Run(nodes);
        return output.ToString();
    }
}

/// <summary>Thrown inside a range body by break/continue.</summary>
internal sealed class LoopControl(bool isContinue) : Exception
{
    public bool IsContinue { get; } = isContinue;
}

internal sealed class TemplateExecutor(
    IReadOnlyDictionary<string, string> data, IReadOnlyDictionary<string, string> environment, StringBuilder output)
{
    private readonly List<(string Name, object? Value)> variables = [("$", data)];

    public void Run(IReadOnlyList<TemplateNode> nodes) => Walk(nodes, data);

    private void Walk(IReadOnlyList<TemplateNode> nodes, object? dot)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case ActionNode action:
                {
                    var value = EvalPipeline(action.Pipe, dot, action.Line, action.Column);
                    if (action.Pipe.Variables.Count == 0) output.Append(GoValues.Print(value));
                    break;
                }
                case BranchNode branch:
                    WalkBranch(branch, dot);
                    break;
                case BreakNode brk:
                    throw new LoopControl(brk.IsContinue);
            }
        }
    }

    private void WalkBranch(BranchNode branch, object? dot)
    {
        var mark = variables.Count;
        try
        {
            if (branch.Keyword == "range")
            {
                WalkRange(branch, dot);
                return;
            }
            var value = EvalPipeline(branch.Pipe, dot, branch.Line, branch.Column);
            if (GoValues.IsTrue(value))
            {
                Walk(branch.Body, branch.Keyword == "with" ? value : dot);
            }
            else if (branch.Else is not null)
            {
                Walk(branch.Else, dot);
            }
        }
        finally
        {
            variables.RemoveRange(mark, variables.Count - mark);
        }
    }

    private void WalkRange(BranchNode branch, object? dot)
    {
        // Range declares its variables per element, so evaluate the pipeline without its declaration.
        var pipe = branch.Pipe with { Variables = [] };
        var value = EvalPipeline(pipe, dot, branch.Line, branch.Column);
        var elements = new List<(object? Key, object? Value)>();
        switch (value)
        {
            case null:
                break;
            case string:
                throw ExecError(branch.Line, branch.Column, branch.Pipe.Source, $"range can't iterate over {value}");
            case IReadOnlyDictionary<string, string> map:
                elements.AddRange(map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => ((object?)kv.Key, (object?)kv.Value)));
                break;
            case IList list:
                for (var i = 0; i < list.Count; i++) elements.Add((i, list[i]));
                break;
            case long n:
                for (long i = 0; i < n; i++) elements.Add((i, i));
                break;
            default:
                throw ExecError(branch.Line, branch.Column, branch.Pipe.Source, $"range can't iterate over {GoValues.Print(value)}");
        }
        if (elements.Count == 0)
        {
            if (branch.Else is not null) Walk(branch.Else, dot);
            return;
        }
        var mark = variables.Count;
        foreach (var (key, element) in elements)
        {
            variables.RemoveRange(mark, variables.Count - mark);
            var decl = branch.Pipe.Variables;
            if (decl.Count == 1) SetVariable(decl[0], element, branch.Pipe.IsAssign);
            if (decl.Count == 2)
            {
                SetVariable(decl[0], key, branch.Pipe.IsAssign);
                SetVariable(decl[1], element, branch.Pipe.IsAssign);
            }
            try
            {
                Walk(branch.Body, element);
            }
            catch (LoopControl control)
            {
                if (!control.IsContinue) break;
            }
        }
    }

    private void SetVariable(string name, object? value, bool assign)
    {
        if (assign)
        {
            for (var i = variables.Count - 1; i >= 0; i--)
            {
                if (variables[i].Name == name)
                {
                    variables[i] = (name, value);
                    return;
                }
            }
            throw new TemplateException($"template: :0: undefined variable: {name}");
        }
        variables.Add((name, value));
    }

    private object? LookupVariable(string name, int line)
    {
        for (var i = variables.Count - 1; i >= 0; i--)
        {
            if (variables[i].Name == name) return variables[i].Value;
        }
        throw new TemplateException($"template: :{line}: undefined variable \"{name}\"");
    }

    private static TemplateException ExecError(int line, int column, string at, string message) =>
        new($"template: :{line}:{column}: executing \"\" at <{at}>: {message}");

    private object? EvalPipeline(Pipeline pipe, object? dot, int line, int column)
    {
        object? value = null;
        var hasPiped = false;
        foreach (var command in pipe.Commands)
        {
            value = EvalCommand(command, dot, hasPiped, value);
            hasPiped = true;
        }
        foreach (var name in pipe.Variables) SetVariable(name, value, pipe.IsAssign);
        return value;
    }

    private object? EvalCommand(Command command, object? dot, bool hasPiped, object? piped)
    {
        var first = command.Args[0];
        if (first is FunctionOperand function)
        {
            var args = new List<object?>();
            // and/or short-circuit in Go: stop evaluating at the first deciding argument.
            if (function.Name is "and" or "or")
            {
                var operands = command.Args.Skip(1).ToList();
                if (operands.Count + (hasPiped ? 1 : 0) == 0)
                    throw ExecError(command.Line, command.Column, command.Source, $"wrong number of args for {function.Name}: want at least 1 got 0");
                object? last = null;
                for (var i = 0; i < operands.Count + (hasPiped ? 1 : 0); i++)
                {
                    last = i < operands.Count ? EvalOperand(operands[i], dot, command) : piped;
                    var truth = GoValues.IsTrue(last);
                    if (function.Name == "and" ? !truth : truth) return last;
                }
                return last;
            }
            foreach (var operand in command.Args.Skip(1)) args.Add(EvalOperand(operand, dot, command));
            if (hasPiped) args.Add(piped);
            try
            {
                return TemplateFunctions.Call(function.Name, args, environment);
            }
            catch (TemplateFunctionException ex)
            {
                throw ExecError(command.Line, command.Column, command.Source, ex.Message);
            }
        }
        if (command.Args.Count > 1 || hasPiped)
        {
            if (first is FieldOperand or VariableOperand { Fields.Count: > 0 })
            {
                var name = first is FieldOperand f ? f.Fields[^1] : ((VariableOperand)first).Fields[^1];
                throw ExecError(command.Line, command.Column, command.Source, $"{name} is not a method but has arguments");
            }
            throw ExecError(command.Line, command.Column, command.Source, $"can't give argument to non-function {OperandText(first)}");
        }
        return EvalOperand(first, dot, command);
    }

    private static string OperandText(Operand operand) => operand switch
    {
        DotOperand => ".",
        ConstantOperand c => GoValues.Print(c.Value),
        VariableOperand v => v.Name,
        _ => operand.ToString() ?? "",
    };

    private object? EvalOperand(Operand operand, object? dot, Command command)
    {
        switch (operand)
        {
            case DotOperand:
                return dot;
            case ConstantOperand c:
                return c.Value;
            case FieldOperand f:
                return EvalFields(dot, f.Fields, command);
            case VariableOperand v:
                return EvalFields(LookupVariable(v.Name, command.Line), v.Fields, command);
            case PipelineOperand p:
            {
                var mark = variables.Count;
                var value = EvalPipeline(p.Pipe, dot, command.Line, command.Column);
                variables.RemoveRange(mark, variables.Count - mark);
                return EvalFields(value, p.Fields, command);
            }
            case FunctionOperand fn:
                try
                {
                    return TemplateFunctions.Call(fn.Name, [], environment);
                }
                catch (TemplateFunctionException ex)
                {
                    throw ExecError(command.Line, command.Column, command.Source, ex.Message);
                }
            default:
                throw ExecError(command.Line, command.Column, command.Source, "unsupported operand");
        }
    }

    private static object? EvalFields(object? receiver, IReadOnlyList<string> fields, Command command)
    {
        var value = receiver;
        foreach (var field in fields)
        {
            value = value switch
            {
                // missingkey=zero on a map[string]string: the zero value "" for an absent key.
                IReadOnlyDictionary<string, string> map => map.TryGetValue(field, out var s) ? s : "",
                null => throw ExecError(command.Line, command.Column, command.Source, $"nil pointer evaluating interface {{}}.{field}"),
                _ => throw ExecError(command.Line, command.Column, command.Source,
                    $"can't evaluate field {field} in type {GoValues.TypeName(value)}"),
            };
        }
        return value;
    }
}

/// <summary>Go value semantics for the interpreter: truth, printing (<c>fmt.Sprint</c>), type names.</summary>
internal static class GoValues
{
    public static bool IsTrue(object? value) => value switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0,
        ICollection c => c.Count > 0,
        IReadOnlyDictionary<string, string> m => m.Count > 0,
        _ => true,
    };

    public static string TypeName(object? value) => value switch
    {
        null => "<nil>",
        string => "string",
        long => "int",
        double => "float64",
        bool => "bool",
        List<string> => "[]string",
        List<long> => "[]int",
        IReadOnlyDictionary<string, string> => "map[string]string",
        IList => "[]interface {}",
        _ => value.GetType().Name,
    };

    public static string Print(object? value) => value switch
    {
        null => "<no value>",
        _ => Format(value),
    };

    /// <summary>Go <c>%v</c>.</summary>
    public static string Format(object? value) => value switch
    {
        null => "<nil>",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => Json5.GoFormatting.FormatFloat(d),
        IReadOnlyDictionary<string, string> m =>
            "map[" + string.Join(' ', m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + kv.Value)) + "]",
        IEnumerable e => "[" + string.Join(' ', e.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };
}
