using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>control.socket must fit sun_path: 108 bytes on Linux with the terminating NUL.</summary>
public sealed class ControlSocketValidationTests
{
    private static ConfigResult Load(string socket) =>
        ConfigLoader.Parse($"{{\n  control: {{\n    socket: '{socket}'\n  }},\n  jobs: [ {{ name: 'a', exec: 'true' }} ]\n}}", new Dictionary<string, string>());

    private static string PathOfBytes(int bytes) => "/tmp/" + new string('s', bytes - "/tmp/".Length);

    [Fact]
    public void SocketPath_Of107Bytes_IsValid()
    {
        var result = Load(PathOfBytes(107));

        result.Errors.ShouldBeEmpty();
        result.Config!.Control.SocketPath.Length.ShouldBe(107);
    }

    [Theory]
    [InlineData(108)]
    [InlineData(300)]
    public void SocketPath_LongerThanSunPath_IsAnErrorNamingControlSocket(int bytes)
    {
        var error = Load(PathOfBytes(bytes)).Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe("control.socket");
        error.Line.ShouldBe(3);
        error.Message.ShouldContain($"{bytes} bytes");
        error.Message.ShouldContain("at most 107");
    }

    [Fact]
    public void SocketPath_CountsUtf8Bytes_NotCharacters()
    {
        // /tmp/ and 54 two-byte characters: 113 bytes in 59 characters.
        var error = Load("/tmp/" + new string('é', 54)).Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe("control.socket");
    }

    [Fact]
    public void RelativeSocketPath_ThatGrowsPastSunPathWhenMadeAbsolute_IsAnErrorNamingControlSocket()
    {
        // 107 bytes as written: it fits, but Pilot binds it from the working directory, which makes it longer.
        var relative = new string('s', 107);

        var error = Load(relative).Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe("control.socket");
        error.Line.ShouldBe(3);
        error.Message.ShouldContain($"{System.Text.Encoding.UTF8.GetByteCount(Path.GetFullPath(relative))} bytes");
        error.Message.ShouldContain("at most 107");
    }

    [Fact]
    public void RelativeSocketPath_IsMadeAbsoluteFromTheWorkingDirectory()
    {
        Load("pilot.socket").Config!.Control.SocketPath.ShouldBe(Path.GetFullPath("pilot.socket"));
    }

    [Fact]
    public void EmptySocketPath_IsOneErrorNamingControlSocket_InV3sWords()
    {
        var error = Load("").Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe("control.socket");
        error.Line.ShouldBe(3);
        error.Message.ShouldBe("control: validate failed with control server not loading due to missing config");
    }

    [Fact]
    public void Mode_ThatIsNotOctal_IsAnErrorNamingControlMode()
    {
        var result = ConfigLoader.Parse("{ control: { mode: '0689' }, jobs: [ { name: 'a', exec: 'true' } ] }", new Dictionary<string, string>());

        var error = result.Errors.ShouldHaveSingleItem();
        error.Path.ShouldBe("control.mode");
        error.Message.ShouldBe("'0689' is not an octal file mode such as \"0600\"");
    }
}
