namespace Pilot.Supervisor.Config.Templates;

/// <summary>A Go text/template parse or execution error; the message is Go's wording (<c>template: :3:12: ...</c>).</summary>
public sealed class TemplateException(string message) : Exception(message);

internal enum TokenKind { Identifier, Field, Dot, Variable, String, Number, Char, Pipe, LeftParen, RightParen, Declare, Assign, Comma }

/// <summary>A token inside an action; <see cref="SpaceBefore"/> tells chained fields (<c>$x.A</c>) from new arguments.</summary>
internal sealed record Token(TokenKind Kind, string Text, int Line, int Column, bool SpaceBefore, string? Value = null);

internal abstract record TemplateNode(int Line, int Column);

internal sealed record TextNode(string Text) : TemplateNode(0, 0);

internal sealed record ActionNode(Pipeline Pipe, int Line, int Column) : TemplateNode(Line, Column);

/// <summary>if / range / with: <see cref="Else"/> holds the else branch (an <c>else if</c> is an IfNode inside it).</summary>
internal sealed record BranchNode(string Keyword, Pipeline Pipe, IReadOnlyList<TemplateNode> Body, IReadOnlyList<TemplateNode>? Else, int Line, int Column)
    : TemplateNode(Line, Column);

internal sealed record BreakNode(bool IsContinue, int Line, int Column) : TemplateNode(Line, Column);

internal sealed record Pipeline(IReadOnlyList<string> Variables, bool IsAssign, IReadOnlyList<Command> Commands, string Source);

internal sealed record Command(IReadOnlyList<Operand> Args, string Source, int Line, int Column);

internal abstract record Operand;

internal sealed record FunctionOperand(string Name) : Operand;

internal sealed record DotOperand : Operand;

/// <summary><c>.A.B</c>: fields on dot.</summary>
internal sealed record FieldOperand(IReadOnlyList<string> Fields) : Operand;

/// <summary><c>$x.A</c>: a variable with optional fields.</summary>
internal sealed record VariableOperand(string Name, IReadOnlyList<string> Fields) : Operand;

internal sealed record ConstantOperand(object? Value) : Operand;

/// <summary><c>(pipeline).A</c>.</summary>
internal sealed record PipelineOperand(Pipeline Pipe, IReadOnlyList<string> Fields) : Operand;
