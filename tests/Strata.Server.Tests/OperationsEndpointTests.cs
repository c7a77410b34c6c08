using System.Net;
using Grpc.Net.Client;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>The HTTP/1.1 operations endpoint: Prometheus metrics and an HTTP health check.</summary>
public sealed class OperationsEndpointTests
{
    [Fact]
    public async Task Metrics_are_served_in_prometheus_format_and_count_what_the_node_did()
    {
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions() with { MetricsPort = 0 });
        Assert.NotNull(server.MetricsAddress);
        Assert.NotEqual(server.Address.Port, server.MetricsAddress!.Port);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new StrataClient(channel);
        await client.CreateBucketAsync(new CreateBucketRequest { Name = "metered" });
        await client.PutObjectAsync(new PutObjectRequest { Bucket = "metered", Path = "o" });
        await client.StatAsync(new StatRequest { Bucket = "metered", Path = "o" });

        using var http = new HttpClient();
        string text = await http.GetStringAsync(new Uri(server.MetricsAddress, "/metrics"));
        Assert.Contains("# TYPE strata_proposals", text, StringComparison.Ordinal);
        Assert.Contains("strata_commit_duration_milliseconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("strata_raft_fsync_duration_milliseconds_count", text, StringComparison.Ordinal);
        Assert.Contains("strata_apply_lag", text, StringComparison.Ordinal);
        string proposals = text.Split('\n').First(line => line.StartsWith("strata_proposals_total{", StringComparison.Ordinal));
        Assert.True(double.Parse(proposals[(proposals.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 2,
            $"two mutations were proposed: {proposals}");
    }

    [Fact]
    public async Task Healthz_answers_200_while_healthy_and_the_grpc_port_does_not_serve_it()
    {
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions() with { MetricsPort = 0 });
        using var http = new HttpClient();
        HttpResponseMessage health = await http.GetAsync(new Uri(server.MetricsAddress!, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_a_metrics_port_there_is_no_operations_endpoint()
    {
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions());
        Assert.Null(server.MetricsAddress);
    }
}
