using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Json5;
using Pilot.Supervisor.Config.Templates;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

public sealed class TemplateAndJson5Tests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["NAME"] = "app",
        ["EMPTY"] = "",
        ["LIST"] = " a,b,c ",
        ["EQ"] = "x=y=z",
        ["N"] = "3",
    };

    [Theory]
    [InlineData("{{ .NAME }}", "app")]
    [InlineData("{{ .MISSING }}", "")]
    [InlineData("{{ .EQ }}", "x=y=z")]
    [InlineData("{{ .EMPTY | default \"fallback\" }}", "fallback")]
    [InlineData("{{ .NAME | default \"fallback\" }}", "app")]
    [InlineData("{{ default 100 .MISSING }}", "100")]
    [InlineData("{{ default 10.1 .MISSING }}", "10.1")]
    [InlineData("{{ env \"NAME\" }}", "app")]
    [InlineData("{{ .LIST | split \",\" | join \"-\" }}", "a-b-c")]
    [InlineData("{{ replaceAll \"a\" \"o\" \"banana\" }}", "bonono")]
    [InlineData("{{ regexReplaceAll \"(\\\\w+)@(\\\\w+)\" \"$2 at $1\" \"me@host\" }}", "host at me")]
    [InlineData("{{ loop 3 }}", "[0 1 2]")]
    [InlineData("{{ loop 2 5 }}", "[2 3 4]")]
    [InlineData("{{ loop 5 2 }}", "[5 4 3]")]
    [InlineData("{{ range $i := loop .N }}{{ $i }},{{ end }}", "0,1,2,")]
    [InlineData("{{ if eq .NAME \"app\" }}yes{{ else }}no{{ end }}", "yes")]
    [InlineData("{{ with .MISSING }}set{{ else }}unset{{ end }}", "unset")]
    [InlineData("a {{- \" b \" -}} c", "a b c")]
    [InlineData("{{ printf \"%s-%d\" .NAME 7 }}", "app-7")]
    [InlineData("{{ len .NAME }}", "3")]
    public void Template_RendersLikeContainerPilot(string template, string expected) =>
        ConfigLoader.Render(template, Env).ShouldBe(expected);

    [Theory]
    [InlineData("{{ loop 1 2 3 }}", "loop: wrong number of arguments, expected 1 or 2, but got 3")]
    [InlineData("{{ .NAME ", "could not apply template to config")]
    [InlineData("{{ regexReplaceAll \"(\" \"x\" \"y\" }}", "could not apply template to config")]
    public void Template_ReportsErrors(string template, string fragment) =>
        Should.Throw<TemplateException>(() => ConfigLoader.Render(template, Env)).Message.ShouldContain(fragment);

    [Fact]
    public void Json5_ReadsCommentsUnquotedKeysSingleQuotesTrailingCommasHexAndMultilineStrings()
    {
        var root = (Json5Object)Json5Reader.Parse("""
            // line comment
            {
              /* block
                 comment */
              unquoted: 'single',
              "quoted": "double",
              hex: 0x1F,
              positive: +5,
              leading: .5,
              trailing: 5.,
              infinity: Infinity,
              multi: 'one \
            two',
              escapes: "tab\there\u0041",
              list: [1, 2, ],
            }
            """);

        string Text(string key) => ((Json5String)root.Find(key)!.Value).Value;
        double Number(string key) => ((Json5Number)root.Find(key)!.Value).Value;
        Text("unquoted").ShouldBe("single");
        Text("quoted").ShouldBe("double");
        Number("hex").ShouldBe(31);
        Number("positive").ShouldBe(5);
        Number("leading").ShouldBe(0.5);
        Number("trailing").ShouldBe(5);
        double.IsPositiveInfinity(Number("infinity")).ShouldBeTrue();
        Text("multi").ShouldBe("one two");
        Text("escapes").ShouldBe("tab\thereA");
        ((Json5Array)root.Find("list")!.Value).Items.Count.ShouldBe(2);
        root.Find("hex")!.Line.ShouldBe(7);
    }

    [Theory]
    [InlineData("{ a: 1 b: 2 }", 1, 8)]
    [InlineData("{\n  a: [1, 2\n  b: 3 }", 3, 3)]
    [InlineData("{ a: 'unterminated }", 1, 6)]
    public void Json5_SyntaxErrorsCarryLineAndColumn(string text, int line, int column)
    {
        var error = Should.Throw<Json5SyntaxException>(() => Json5Reader.Parse(text));

        error.Line.ShouldBe(line);
        error.Column.ShouldBeGreaterThanOrEqualTo(column);
    }
}
