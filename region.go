package profileapi

// Region is where a customer lives; each region has its own API endpoint and
// a token is accepted only at its own region's endpoint.
type Region string

// The three regions of the live service.
const (
	RegionNA Region = "NA"
	RegionEU Region = "EU"
	RegionFE Region = "FE"
)

// Regions lists every region in a stable order.
var Regions = []Region{RegionNA, RegionEU, RegionFE}

// ParseRegion accepts "NA", "EU" or "FE".
func ParseRegion(s string) (Region, error) {
	switch r := Region(s); r {
	case RegionNA, RegionEU, RegionFE:
		return r, nil
	}
	return "", Errorf(EINVALID, "region %q is not one of NA, EU, FE", s)
}
