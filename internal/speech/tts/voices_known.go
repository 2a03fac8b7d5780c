package tts

// knownVoiceGender is the gender of well-known Azure neural voices, keyed
// by voiceBase of the short name ("en-US-JennyNeural" → "jenny"). Names are
// unique across locales in this table.
var knownVoiceGender = map[string]string{
	// en-US
	"jenny": "female", "aria": "female", "nancy": "female", "sara": "female",
	"michelle": "female", "amber": "female", "ana": "female", "ashley": "female",
	"cora": "female", "elizabeth": "female", "monica": "female", "jane": "female",
	"ava": "female", "emma": "female", "luna": "female", "aigenerate2": "female",
	"guy": "male", "davis": "male", "tony": "male", "jason": "male",
	"brandon": "male", "christopher": "male", "eric": "male", "jacob": "male",
	"roger": "male", "steffan": "male", "andrew": "male", "brian": "male",
	"kai": "male", "aigenerate1": "male",
	// en-GB, en-AU, en-IN, en-CA, en-IE
	"sonia": "female", "libby": "female", "abbi": "female", "bella": "female",
	"hollie": "female", "maisie": "female", "olivia": "female",
	"natasha": "female", "neerja": "female", "clara": "female", "emily": "female",
	"ryan": "male", "alfie": "male", "elliot": "male", "ethan": "male",
	"noah": "male", "oliver": "male", "thomas": "male", "william": "male",
	"prabhat": "male", "liam": "male", "connor": "male",
	// fr-FR, fr-CA
	"denise": "female", "eloise": "female", "vivienne": "female",
	"brigitte": "female", "celeste": "female", "coralie": "female",
	"jacqueline": "female", "josephine": "female", "yvette": "female",
	"sylvie": "female",
	"henri":  "male", "remy": "male", "alain": "male", "claude": "male",
	"jerome": "male", "maurice": "male", "yves": "male", "antoine": "male",
	"jean": "male", "thierry": "male",
	// de-DE, de-AT, de-CH
	"katja": "female", "amala": "female", "elke": "female", "gisela": "female",
	"klarissa": "female", "louisa": "female", "maja": "female", "tanja": "female",
	"seraphina": "female", "ingrid": "female", "leni": "female",
	"conrad": "male", "bernd": "male", "christoph": "male", "kasper": "male",
	"killian": "male", "klaus": "male", "ralf": "male", "florian": "male",
	"jonas": "male", "jan": "male",
	// es-ES, es-MX, es-US
	"elvira": "female", "abril": "female", "estrella": "female", "irene": "female",
	"laia": "female", "lia": "female", "triana": "female", "vera": "female",
	"ximena": "female", "dalia": "female", "beatriz": "female", "candela": "female",
	"larissa": "female", "marina": "female", "nuria": "female", "renata": "female",
	"paloma": "female",
	"alvaro": "male", "arnau": "male", "dario": "male", "elias": "male",
	"nil": "male", "saul": "male", "teo": "male", "jorge": "male",
	"cecilio": "male", "gerardo": "male", "liberto": "male", "luciano": "male",
	"pelayo": "male", "yago": "male", "alonso": "male",
	// it-IT
	"elsa": "female", "isabella": "female", "fabiola": "female", "fiamma": "female",
	"imelda": "female", "irma": "female", "palmira": "female", "pierina": "female",
	"diego": "male", "benigno": "male", "calimero": "male", "cataldo": "male",
	"gianni": "male", "lisandro": "male", "rinaldo": "male", "giuseppe": "male",
	// pt-BR, pt-PT
	"francisca": "female", "brenda": "female", "elza": "female",
	"giovanna": "female", "leila": "female", "leticia": "female",
	"manuela": "female", "thalita": "female", "yara": "female",
	"raquel": "female", "fernanda": "female",
	"antonio": "male", "donato": "male", "fabio": "male", "humberto": "male",
	"julio": "male", "nicolau": "male", "valerio": "male", "duarte": "male",
	// nl-NL, ja-JP, ko-KR, zh-CN
	"colette": "female", "fenna": "female", "maarten": "male",
	"nanami": "female", "aoi": "female", "mayu": "female", "shiori": "female",
	"keita": "male", "daichi": "male", "naoki": "male",
	"sunhi": "female", "injoon": "male",
	"xiaoxiao": "female", "xiaoyi": "female", "xiaochen": "female",
	"xiaohan": "female", "xiaomeng": "female", "xiaomo": "female",
	"xiaoqiu": "female", "xiaorui": "female", "xiaoshuang": "female",
	"xiaoxuan": "female", "xiaoyan": "female", "xiaoyou": "female",
	"xiaozhen": "female",
	"yunxi":    "male", "yunjian": "male", "yunyang": "male", "yunfeng": "male",
	"yunhao": "male", "yunxia": "male", "yunye": "male", "yunze": "male",
}
