namespace Strata.Client;

/// <summary>
/// What a cluster client's routing has done since it was made (cumulative; <see cref="Since"/> gives the
/// difference over an interval, e.g. around one call in a test or per report period in <c>strata bench</c>).
/// </summary>
/// <param name="MapFetches">Cluster maps fetched successfully.</param>
/// <param name="MapFetchFailures">Map refreshes that found no node to answer (the call went on with the old map).</param>
/// <param name="RedirectsFollowed">UNAVAILABLE refusals naming another node that were followed at once.</param>
/// <param name="LeadersLearned">Times a response trailer named a different leader than the cached map, which was updated.</param>
/// <param name="ConnectionFailures">Attempts and map fetches that could not reach their node (the node was then suspected).</param>
public readonly record struct RoutingCounters(long MapFetches, long MapFetchFailures, long RedirectsFollowed, long LeadersLearned, long ConnectionFailures)
{
    /// <summary>The counts between <paramref name="earlier"/> and this reading.</summary>
    public RoutingCounters Since(RoutingCounters earlier) => new(
        MapFetches - earlier.MapFetches,
        MapFetchFailures - earlier.MapFetchFailures,
        RedirectsFollowed - earlier.RedirectsFollowed,
        LeadersLearned - earlier.LeadersLearned,
        ConnectionFailures - earlier.ConnectionFailures);
}
