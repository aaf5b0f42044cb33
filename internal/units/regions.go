package units

// Regions maps each pre-reform province code to its socio-economic region,
// the seven regions by which the 2021-2025 criteria sets (Decision
// 318/QĐ-TTg) set their thresholds. New provinces took the code of one of
// their old provinces, and are given that province's region.
var Regions = map[string]string{
	// Trung du và miền núi phía Bắc
	"02": "northern_midlands_mountains", "04": "northern_midlands_mountains", "06": "northern_midlands_mountains",
	"08": "northern_midlands_mountains", "10": "northern_midlands_mountains", "11": "northern_midlands_mountains",
	"12": "northern_midlands_mountains", "14": "northern_midlands_mountains", "15": "northern_midlands_mountains",
	"17": "northern_midlands_mountains", "19": "northern_midlands_mountains", "20": "northern_midlands_mountains",
	"24": "northern_midlands_mountains", "25": "northern_midlands_mountains",
	// Đồng bằng sông Hồng
	"01": "red_river_delta", "22": "red_river_delta", "26": "red_river_delta", "27": "red_river_delta",
	"30": "red_river_delta", "31": "red_river_delta", "33": "red_river_delta", "34": "red_river_delta",
	"35": "red_river_delta", "36": "red_river_delta", "37": "red_river_delta",
	// Bắc Trung Bộ
	"38": "north_central", "40": "north_central", "42": "north_central", "44": "north_central",
	"45": "north_central", "46": "north_central",
	// Duyên hải Nam Trung Bộ
	"48": "south_central_coast", "49": "south_central_coast", "51": "south_central_coast", "52": "south_central_coast",
	"54": "south_central_coast", "56": "south_central_coast", "58": "south_central_coast", "60": "south_central_coast",
	// Tây Nguyên
	"62": "central_highlands", "64": "central_highlands", "66": "central_highlands", "67": "central_highlands",
	"68": "central_highlands",
	// Đông Nam Bộ
	"70": "southeast", "72": "southeast", "74": "southeast", "75": "southeast", "77": "southeast", "79": "southeast",
	// Đồng bằng sông Cửu Long
	"80": "mekong_delta", "82": "mekong_delta", "83": "mekong_delta", "84": "mekong_delta", "86": "mekong_delta",
	"87": "mekong_delta", "89": "mekong_delta", "91": "mekong_delta", "92": "mekong_delta", "93": "mekong_delta",
	"94": "mekong_delta", "95": "mekong_delta", "96": "mekong_delta",
}
