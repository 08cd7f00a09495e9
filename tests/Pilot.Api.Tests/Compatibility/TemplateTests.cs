using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §6 (the config template) through <c>pilot -template</c> and a running Pilot.</summary>
public sealed class TemplateTests
{
    private const string Template = """
            name={{ .NAME }}
            missing=[{{ .MISSING }}]
            eq={{ .EQ }}
            envEq={{ env "EQ" }} envMissing=[{{ env "MISSING" }}]
            dash={{ index . "MY-VAR" }}
            default1={{ .EMPTY | default "fallback" }} default2={{ default 100 .MISSING }} default3={{ default 10.1 .MISSING }} default4={{ .NAME | default "fallback" }} default5={{ default "d" 5 }}
            split={{ .LIST | split "," }} splitEmpty={{ split "," "   " }} splitLen={{ len (split "," "") }}
            join={{ .LIST | split "," | join "-" }} joinEmpty=[{{ split "," "" | join "-" }}]
            replace={{ replaceAll "a" "o" "banana" }}
            regex={{ regexReplaceAll "(\\w+)@(\\w+)" "$2 at $1" "me@host" }} named={{ regexReplaceAll "(?P<user>\\w+)@(?P<host>\\w+)" "${host}/${user}" "me@host you@there" }}
            loop1={{ loop 3 }} loop2={{ loop 2 5 }} loop3={{ loop 10 1 }} loopStr={{ loop "2" "4" }} loopN={{ loop .N }} loop0={{ loop 0 }}
            range={{ range $i := loop .N }}{{ $i }},{{ end }}
            if={{ if eq .NAME "app" }}yes{{ else }}no{{ end }} with={{ with .MISSING }}set{{ else }}unset{{ end }} with2={{ with .NAME }}{{ . }}{{ end }}
            trim=a {{- " b " -}} c
            printf={{ printf "%s-%d-%v-%q" .NAME 7 true "x" }} len={{ len .NAME }}
            logic={{ and .NAME .MISSING }}|{{ or .MISSING .NAME }}|{{ not .MISSING }}
            cmp={{ lt 1 2 }} {{ ge 2 2 }} {{ ne .NAME "x" }} {{ eq .N "3" }}
            print={{ print "a" 1 2 "b" }}|{{ println "x" }}|
            html={{ html "<a&b>" }} js={{ js "it's \"q\"" }} url={{ urlquery "a b&c" }}
            comment={{/* a comment */}}end
            pipeline={{ "abc" | printf "%s!" }}
            var={{ $x := .NAME }}{{ $x }}
            """;

    /// <summary>What ContainerPilot 3.8.0 renders for <see cref="Template"/> with the same environment, but for <c>eq=</c> (v3 cut the value at its second <c>=</c>).</summary>
    private const string Rendered = """
            name=app
            missing=[]
            eq=x=y=z
            envEq=x=y=z envMissing=[]
            dash=dashed
            default1=fallback default2=100 default3=10.1 default4=app default5=d
            split=[a b c] splitEmpty=[] splitLen=0
            join=a-b-c joinEmpty=[]
            replace=bonono
            regex=host at me named=host/me there/you
            loop1=[0 1 2] loop2=[2 3 4] loop3=[10 9 8 7 6 5 4 3 2] loopStr=[2 3] loopN=[0 1 2] loop0=[]
            range=0,1,2,
            if=yes with=unset with2=app
            trim=a b c
            printf=app-7-true-"x" len=3
            logic=|app|true
            cmp=true true true true
            print=a1 2b|x
            |
            html=&lt;a&amp;b&gt; js=it\'s \"q\" url=a+b%26c
            comment=end
            pipeline=abc!
            var=app
            """;

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["NAME"] = "app",
        ["EMPTY"] = "",
        ["LIST"] = " a,b,c ",
        ["EQ"] = "x=y=z",
        ["N"] = "3",
        ["MY-VAR"] = "dashed",
    };

    private static async Task<PilotProcess.Outcome> RenderAsync(string template, CancellationToken token)
    {
        using var directory = new TempDirectory();
        var path = directory.File("pilot.json5");
        await File.WriteAllTextAsync(path, template, token);
        return await PilotProcess.RunAsync(["-config", path, "-template"], token, Environment);
    }

    [Fact]
    public async Task Template_RendersGoBuiltinsAndContainerPilotsFunctions_AsV3Does()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await RenderAsync(Template + "\n", timeout.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        outcome.Stdout.ShouldBe(Rendered + "\n");
    }

    [Theory]
    [InlineData("{ a: {{ loop 1 2 3 }} }", "template: :1:8: executing \"\" at <loop 1 2 3>: error calling loop: loop: wrong number of arguments, expected 1 or 2, but got 3")]
    [InlineData("{{ loop \"x\" }}", "template: :1:3: executing \"\" at <loop \"x\">: error calling loop: strconv.Atoi: parsing \"x\": invalid syntax")]
    [InlineData("{{ loop 1.5 }}", "template: :1:3: executing \"\" at <loop 1.5>: error calling loop: interface conversion: interface {} is float64, not int")]
    [InlineData("{{ .NAME ", "template: :1: unclosed action")]
    [InlineData("x\n{{ nosuchfunc 1 }}", "template: :2: function \"nosuchfunc\" not defined")]
    [InlineData("{{ regexReplaceAll \"(\" \"x\" \"y\" }}", "template: :1:3: executing \"\" at <regexReplaceAll \"(\" \"x\" \"y\">: error calling regexReplaceAll: ")]
    public async Task TemplateErrors_AreV3s(string template, string error)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await RenderAsync(template, timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain(" could not apply template to config: " + error);
    }

    /// <summary><c>CONTAINERPILOT_PID</c> is in the template data on the first load (the docs say it is not).</summary>
    [Fact]
    public async Task Template_SeesContainerpilotPid_OnTheFirstLoad()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { control: { socket: "SOCKET" }, jobs: [ { name: "show", exec: ["sh", "-c", "echo rendered={{ .CONTAINERPILOT_PID }} env=$CONTAINERPILOT_PID"] } ] }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain($"rendered={pilot.Pid} env={pilot.Pid}");
    }
}
