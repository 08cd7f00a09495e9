using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class EnvironEndpointTests
{
    [Theory]
    [InlineData("/v3/environ")]
    [InlineData("/v3/env")]
    public async Task Environ_SetsEveryVariable_WhenBodyIsAnObjectOfStrings(string path)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, type) = await host.Client.PostJsonAsync(path, """{"A":"1","B":"x=y","C":""}""", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        type.ShouldBe("application/json");
        body.GetProperty("ok").GetBoolean().ShouldBeTrue();
        host.Supervisor.Environment.ShouldBe(new Dictionary<string, string> { ["A"] = "1", ["B"] = "x=y", ["C"] = "" }, ignoreOrder: true);
    }

    [Fact]
    public async Task Environ_SetsEmptyValue_WhenValueIsNull()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, _, _) = await host.Client.PostJsonAsync("/v3/environ", """{"GONE":null}""", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        host.Supervisor.Environment["GONE"].ShouldBe("");
    }

    [Fact]
    public async Task Environ_IsANoOp_WhenBodyIsJsonNull()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, _, _) = await host.Client.PostJsonAsync("/v3/environ", "null", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        host.Supervisor.EnvironmentPuts.ShouldBe(0);
    }

    [Theory]
    [InlineData("{\"A\":", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object, not an array")]
    [InlineData("\"A=1\"", "must be a JSON object, not a string")]
    public async Task Environ_Answers422Problem_WhenBodyIsNotAJsonObject(string json, string expected)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, type) = await host.Client.PostJsonAsync("/v3/environ", json, host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        type.ShouldBe("application/problem+json");
        body.GetProperty("status").GetInt32().ShouldBe(422);
        body.GetProperty("detail").GetString()!.ShouldContain(expected);
        host.Supervisor.EnvironmentPuts.ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"":"x"}""", "cannot be empty")]
    [InlineData("""{"A=B":"x"}""", "\"A=B\" is not a valid environment variable name")]
    [InlineData("""{"A\u0000B":"x"}""", "is not a valid environment variable name")]
    [InlineData("""{"A":1}""", "the value of \"A\" must be a string or null, not a number")]
    [InlineData("""{"A":{"b":"c"}}""", "must be a string or null, not an object")]
    [InlineData("""{"A":true}""", "must be a string or null, not a boolean")]
    public async Task Environ_Answers422NamingTheEntry_WhenAnEntryIsInvalid(string json, string expected)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/environ", json, host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ProblemMessages().ShouldContain(m => m.Contains(expected));
        host.Supervisor.EnvironmentPuts.ShouldBe(0);
    }

    [Fact]
    public async Task Environ_ReportsEveryInvalidEntryAndAppliesNone_WhenSeveralAreInvalid()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/environ", """{"OK":"1","A=B":"x","C":2}""", host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ProblemMessages().Length.ShouldBe(2);
        host.Supervisor.Environment.ShouldBeEmpty();
    }

    [Fact]
    public async Task Environ_Answers413Problem_WhenBodyExceeds64KiB()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        var big = $$"""{"BIG":"{{new string('x', 70 * 1024)}}"}""";

        var (status, body, type) = await host.Client.PostJsonAsync("/v3/environ", big, host.Token);

        status.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        type.ShouldBe("application/problem+json");
        body.GetProperty("status").GetInt32().ShouldBe(413);
        host.Supervisor.EnvironmentPuts.ShouldBe(0);
    }

    [Fact]
    public async Task Environ_Accepts_WhenBodyIsJustUnder64KiB()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        var value = new string('x', 64 * 1024 - 20);

        var (status, _, _) = await host.Client.PostJsonAsync("/v3/environ", $$"""{"BIG":"{{value}}"}""", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        host.Supervisor.Environment["BIG"].ShouldBe(value);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task Environ_ReadsTheBody_WhateverTheContentType(string? contentType)
    {
        await using var host = await ControlPlaneHost.StartAsync();
        using var content = new ByteArrayContent("""{"A":"1"}"""u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await host.Client.PostAsync("/v3/environ", content, host.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        host.Supervisor.Environment["A"].ShouldBe("1");
    }
}
